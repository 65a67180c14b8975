"""Receipts: every gated call comes back with a signed receipt that anyone holding the log's
public key can check, without the database. Run: python examples/receipts.py"""

import tempfile
from pathlib import Path

from proctor import Gate, load_policy
from proctor.audit import (
    AuditHook,
    AuditLog,
    AuditSettings,
    complete_receipt,
    parse_public_key,
    verify_receipt,
)
from proctor.errors import ReceiptError
from proctor.model import Receipt
from proctor.store import StoreSettings

tmp = Path(tempfile.mkdtemp())
settings = AuditSettings(store=StoreSettings(sqlite_path=tmp / "proctor.db"), signing_key="5e" * 32)
log = AuditLog.open(settings)
public_key = log.signer.public_hex if log.signer else ""  # what the log gives third parties
gate = Gate(load_policy(Path(__file__).with_name("refunds.yaml")), hooks=[AuditHook(log)])


@gate.tool("payments.refund")
def refund(order_id: str, amount: float) -> str:
    return f"refunded {amount:.2f}"


session = gate.open_session("refunds-bot", principal="ticket:T-1", tenant="acme")
denied = refund(session, order_id="O-1001", amount=5000.0)
assert denied.receipt is not None
(tmp / "receipt.json").write_text(denied.receipt.to_json())
small = refund(session, order_id="O-1002", amount=40.0)  # allowed and executed
assert small.receipt is not None
(tmp / "small.json").write_text(small.receipt.to_json())  # its "opening" opens the arguments

log.checkpoint()  # normally every 1000 records or 60 s; then the receipt can be completed
completed = complete_receipt(log.engine, denied.receipt)
(tmp / "completed.json").write_text(completed.to_json())
gate.close()
log.close()

# --- a third party: the receipt files and the public key, no database ---
key = parse_public_key(public_key)
for name in ("receipt.json", "completed.json"):
    check = verify_receipt(Receipt.from_json((tmp / name).read_text()), [key])
    r = check.receipt
    print(name, r.tool, r.verdict, r.status, list(r.rule_ids), "record", r.seq, end=" ")
    print("included" if check.included else "signed")

forged = (tmp / "completed.json").read_text().replace('"DENY"', '"ALLOW"')
try:
    verify_receipt(Receipt.from_json(forged), [key])
except ReceiptError as exc:
    print("forged:", exc)

# the small refund's receipt checks against its own arguments, not a larger refund's
receipt = Receipt.from_json((tmp / "small.json").read_text())
print("small.json", receipt.agent, receipt.tenant, receipt.environment, receipt.verdict, end=" ")
check = verify_receipt(receipt, [key], args={"order_id": "O-1002", "amount": 40.0})
print("arguments match" if check.args_checked else "?")
try:
    verify_receipt(receipt, [key], args={"order_id": "O-1002", "amount": 4000.0})
except ReceiptError as exc:
    print("presented for 4000.0:", exc)

# Expected output (checked by tests/test_docs.py):
# receipt.json payments.refund DENY denied ['refund.over-1000'] record 3 signed
# completed.json payments.refund DENY denied ['refund.over-1000'] record 3 included
# forged: the receipt's signature does not verify: it was altered, or signed by another log
# small.json refunds-bot acme production ALLOW arguments match
# presented for 4000.0: not the arguments the receipt commits to (or a wrong opening)
