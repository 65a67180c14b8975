"""Quick start: put a refund tool behind the gate. Run: python examples/quickstart.py"""

from pathlib import Path

from proctor import Gate, load_policy

policy = load_policy(Path(__file__).with_name("refunds.yaml"))
gate = Gate(policy)


@gate.tool("orders.get")
def get_order(order_id: str) -> dict[str, object]:
    return {"order_id": order_id, "total": 120.0}


@gate.tool("payments.refund")
def refund(order_id: str, amount: float) -> str:
    return f"refunded {amount:.2f} on {order_id}"


session = gate.open_session("refunds-bot", principal="ticket:T-1", tenant="acme")

print(get_order(session, order_id="O-1001").result)  # read: allowed
for amount in (40.0, 250.0, 5000.0):
    outcome = refund(session, order_id="O-1001", amount=amount)
    print(amount, outcome.status, outcome.result or outcome.error)
print(gate.call(session, "payments.void", {"order_id": "O-1001"}).error)  # not in the policy

# Expected output (checked by tests/test_docs.py):
# 40.0 executed refunded 40.00 on O-1001
# 250.0 pending held for approval: Refunds above 100 need a finance approver.
# 5000.0 denied Refunds above 1000 are never made by an agent.
# tool 'payments.void' is not named in the policy of agent 'refunds-bot' (default deny)
gate.close()
