"""``Drift``: a count that is a share of another (denials of calls), watched by a CUSUM.

A z-score against an EWMA baseline adapts to a slow drift: by the time the share has climbed,
the baseline has climbed with it, and no single minute is unusual. A CUSUM accumulates the
evidence instead. Each minute with ``n`` calls of which ``d`` were denied adds the
log-likelihood ratio of "the share is ``p1``" against "the share is the reference ``p0``"::

    llr = d log(p1 / p0) + (n - d) log((1 - p1) / (1 - p0))      p1 = max(p0 + SHIFT, RATIO p0)
    S = max(0, S + min(llr, CAP log(p1 / p0)) / phi)

so a call judged as usual lowers ``S`` a little and a denial raises it a lot; an idle minute
leaves it alone (a sparse agent's evidence adds up across hours, a busy agent's within
minutes). ``phi`` corrects for overdispersion: an agent that retries a refused call makes
denials come in clusters, which a binomial model would read as evidence (and one minute
weighs at most one denial's worth, ``CAP``: a cluster of retries is one event). It is the ratio of
two slow EWMAs, of the squared excess ``(d - n p0)²`` and of the binomial variance
``n p0 (1 - p0)``, and at least 1 (quasi-likelihood). The reference ``p0`` is the ratio of two
slow EWMAs of ``d`` and ``n`` (a plain average of every active minute until it has seen
as many as the half-life: three days of active minutes). After an alert the fold restarts ``S``
at 0 (``restart``): a drift that persists raises ``S`` again; one that ended does not linger.

``SHIFT`` is 6 points, not the 12 it was: the cap counts a minute's denials as one, while a
refused call retried makes about two (one to three), so a rise of 12 points in the share of
denied calls is a rise of about 6 in what the capped CUSUM sees. Designed for 12, the CUSUM
stepped down on average under any share below about 11 % of calls (from a reference of
1.5 %, in clusters): the first eight hours of a drift of ``proctor bench monitor`` (seed 400,
127 denials in 1,848 calls, 6.9 %, against 1.4 %) lowered ``S`` by 0.064 an active minute,
and the drift, which then went on at night with a few calls an hour, was never flagged. On
eleven seeds (denials only, offline) 6 points caught 22 of 22 drifts with 1 false alert
where 12 caught 21 with 9: a smaller design shift weighs one denial less (log 5 against
log 9) and a sustained rise more. 4 and 5 points missed drifts again.

The score, ``S``, is in units of log-likelihood ratio: 5 (the default ``denials.drift``)
means the recent calls are about e⁵ ≈ 150 times likelier under the shifted share than under
the reference. The reference and ``phi`` learn from every active minute, except for a day
after an alert (``restart`` holds them, ``HOLD``): a drift alerted on does not teach them. A
drift of 17 % of calls for 16 hours raised ``phi`` from 1.9 to 6 and the reference from 1.1 %
to 3 %, and a second drift 14 hours later scored 2 at most (seed 700 of the bench). The
minutes before the first alert are still learned (docs/monitoring.md, Limits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proctor.monitor._estimators import alpha

PRIOR = 0.002  # the share assumed while nothing was seen (never exactly 0)
MAX_P0 = 0.5


@dataclass(slots=True)
class Drift:
    """A share of calls with a CUSUM of its rise (see the module docstring)."""

    num: float = 0.0  # EWMA of the count per active minute
    den: float = 0.0  # EWMA of the calls per active minute
    sq: float = 0.0  # EWMA of the squared excess (d - n p0)²
    var: float = 0.0  # EWMA of the binomial variance n p0 (1 - p0)
    cusum: float = 0.0
    n: int = 0  # minutes observed with at least one call
    held: int = 0  # minutes left in which the reference and phi do not learn (after an alert)

    ALPHA = alpha(3 * 1440)  # the reference share and the dispersion: half-life of 3 days
    SHIFT = 0.06  # the CUSUM looks for a rise of the share of at least 6 points ...
    RATIO = 2.0  # ... or to twice the reference, whichever is larger
    CAP = 1.0  # one minute weighs at most this many denials (bounded influence)
    HOLD = 1440  # after an alert, the reference and phi learn nothing for a day

    @property
    def p(self) -> float:
        """The reference share."""
        if self.den <= 0:
            return PRIOR
        return min(max(self.num / self.den, PRIOR), MAX_P0)

    @property
    def phi(self) -> float:
        """The overdispersion: 1 for independent calls, more for clusters."""
        if self.var <= 0:
            return 1.0
        return max(self.sq / self.var, 1.0)

    def llr(self, count: float, whole: float) -> float:
        """The log-likelihood ratio of ``count`` out of ``whole`` (shifted against reference),
        divided by the overdispersion."""
        if whole <= 0:
            return 0.0
        p0 = self.p
        p1 = min(max(p0 + self.SHIFT, self.RATIO * p0), 0.99)
        d = min(max(count, 0.0), whole)
        up = math.log(p1 / p0)
        down = math.log((1.0 - p1) / (1.0 - p0))
        # one minute's evidence is at most CAP denials' worth: a cluster of retries is one event
        return min(d * up + (whole - d) * down, self.CAP * up) / self.phi

    def update(self, count: float, whole: float, *, score: bool = True) -> float:
        """Fold one minute in (the fold calls it every minute, idle or not); return the CUSUM
        after it (the anomaly score). ``score`` false (the warm-up): learn the reference only,
        leave the CUSUM at 0. Held (after an alert): score only, learn nothing."""
        learn = self.held <= 0
        if not learn:
            self.held -= 1
        if whole <= 0:
            return self.cusum  # an idle minute is no evidence either way
        if score:
            self.cusum = max(0.0, self.cusum + self.llr(count, whole))
        if not learn:
            return self.cusum
        p0 = self.p
        a = max(self.ALPHA, 1.0 / (self.n + 1))  # a plain average until the EWMA is fuller
        self.num += a * (count - self.num)
        self.den += a * (whole - self.den)
        self.sq += a * ((count - whole * p0) ** 2 - self.sq)
        self.var += a * (whole * p0 * (1.0 - p0) - self.var)
        self.n += 1
        return self.cusum

    def restart(self) -> None:
        """Start accumulating afresh (after an alert), and hold the reference and ``phi`` for
        ``HOLD`` minutes unless they are held already: a drift that was alerted on does not
        teach them (a later alert within the hold does not extend it: a share that stays
        raised is taken in as the new normal after a day)."""
        self.cusum = 0.0
        if self.held <= 0:
            self.held = self.HOLD

    def to_state(self) -> dict[str, Any]:
        return {
            "num": self.num,
            "den": self.den,
            "sq": self.sq,
            "var": self.var,
            "s": self.cusum,
            "n": self.n,
            "h": self.held,
        }

    @staticmethod
    def from_state(data: Mapping[str, Any]) -> Drift:
        return Drift(
            float(data["num"]),
            float(data["den"]),
            float(data["sq"]),
            float(data["var"]),
            float(data["s"]),
            int(data["n"]),
            int(data.get("h", 0)),
        )
