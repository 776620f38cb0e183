"""Schemathesis over the payment API: never a 5xx, every response matches the OpenAPI."""

from tests.service.payment.charges import charge_of, charge_request
from tests.service.payment.test_payouts import add_account, cash_out, earn
from tests.support.contract import fuzz_openapi


def person_for(people, method: str, path: str):
    if path.startswith("/api/v1/admin") or path.endswith("/refund") or (
            method == "POST" and path == "/api/v1/promos"):
        return people["admin"]
    if path.startswith("/api/v1/payouts"):
        return people["runner"]
    return people["owner"]


async def real_ids(world, people) -> dict[str, str]:
    owner, runner = people["owner"], people["runner"]
    await earn(world, runner)
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    account = await add_account(world, runner)
    cash = (await cash_out(world, runner, 100, account["id"])).json()
    charge = charge_request(owner, source="parcels")
    await world.send(charge)
    await charge_of(world, charge.charge_id, "captured")
    return {"payment_id": payment["id"], "booking_id": booking, "destination_id": account["id"],
            "cash_out_id": cash["cashOutId"], "charge_id": str(charge.charge_id)}


async def test_every_operation_keeps_its_openapi_contract(world):
    people = {role: world.person(role) for role in ("owner", "runner", "admin")}
    ids = await real_ids(world, people)

    def headers_for(method: str, path: str) -> dict:
        return person_for(people, method, path).headers

    fuzzed = await fuzz_openapi(world.client, headers_for, ids=ids)
    assert fuzzed == 31  # 29 payment operations and the two dead-letter admin routes
