"""Runner payouts: destination accounts, the ledger balance, cash-out over the simulated rail."""

import uuid
from datetime import timedelta

from kilat.platform.models import utcnow
from kilat.services.payment.jobs import run_due_work
from tests.service.payment.support import wait_for

ACCOUNT = {"bank_name": "Maybank", "account_name": "Ali Runner", "account_number": "514012345678"}


async def add_account(world, runner, **changes):
    body = ACCOUNT | changes
    response = await world.client.post("/api/v1/payouts/destinations", json=body,
                                       headers=runner.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def earn(world, runner, price=150000):
    """A released payment of ``price`` for ``runner`` (payout = price − 15%)."""
    owner = world.person("owner")
    booking = await world.book(owner, price=price)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    await world.deliver(booking)
    await world.payment_in(payment["id"], "released")


async def balance(world, runner) -> dict:
    response = await world.client.get("/api/v1/payouts/balance", headers=runner.headers)
    return response.json()["data"]


async def cash_out(world, runner, amount, destination_id):
    return await world.client.post("/api/v1/payouts/cash-out", headers=runner.headers,
                                   json={"amountMyrCents": amount, "destinationId": destination_id})


async def test_destination_crud_for_the_runner(world):
    runner = world.person("runner")
    first = await add_account(world, runner)
    assert first["is_default"] and first["account_last4"] == "5678"
    assert "account_number" not in first
    second = await add_account(world, runner, bank_name="CIMB", is_default=True)
    listed = (await world.client.get("/api/v1/payouts/destinations", headers=runner.headers)).json()
    assert [(d["bank_name"], d["is_default"]) for d in listed["data"]] == [("Maybank", False),
                                                                          ("CIMB", True)]
    url = f"/api/v1/payouts/destinations/{first['id']}"
    updated = await world.client.put(url, json={"account_name": "Ali bin Abu", "version": 1},
                                     headers=runner.headers)
    assert updated.status_code == 200 and updated.json()["data"]["account_name"] == "Ali bin Abu"
    stale = await world.client.put(url, json={"account_name": "x", "version": 1},
                                   headers=runner.headers)
    assert stale.status_code == 409
    assert (await world.client.delete(url, headers=runner.headers)).status_code == 200
    assert (await world.client.get(url, headers=runner.headers)).status_code == 404
    assert second["bank_name"] == "CIMB"


async def test_destinations_are_the_runners_own(world):
    runner, other = world.person("runner"), world.person("runner")
    account = await add_account(world, runner)
    url = f"/api/v1/payouts/destinations/{account['id']}"
    assert (await world.client.get(url, headers=other.headers)).status_code == 403
    assert (await world.client.put(url, json={"bank_name": "x"},
                                   headers=other.headers)).status_code == 403
    assert (await world.client.delete(url, headers=other.headers)).status_code == 403
    assert (await world.client.get("/api/v1/payouts/destinations",
                                   headers=world.person("owner").headers)).status_code == 403
    bad = await world.client.post("/api/v1/payouts/destinations", headers=runner.headers,
                                  json=ACCOUNT | {"account_number": "12ab"})
    assert bad.status_code == 400


async def test_cash_out_is_accepted_in_the_spec_shape_and_completes_on_the_rail(world):
    runner = world.person("runner")
    await earn(world, runner)
    account = await add_account(world, runner)
    response = await cash_out(world, runner, 1000, account["id"])
    assert response.status_code == 202
    body = response.json()
    assert body["etaMinutes"] == body["data"]["etaMinutes"] == 1
    assert body["cashOutId"] == body["data"]["cashOutId"]
    assert (body["data"]["amountMyrCents"], body["data"]["feeCents"]) == (1000, 50)
    assert (await balance(world, runner))["available_cents"] == 127500 - 1050

    async def completed():
        row = await world.client.get(f"/api/v1/payouts/cash-outs/{body['cashOutId']}",
                                     headers=runner.headers)
        return row.json()["data"] if row.json()["data"]["status"] == "completed" else None

    done = await wait_for(completed)
    assert done["rail_reference"].startswith("DN-") and done["completed_at"]
    assert (await balance(world, runner))["available_cents"] == 127500 - 1050
    await world.runtime.relay.drain()
    assert [e["status"] for e in world.events("payment.cash_out_completed")] == ["completed"]
    listed = await world.client.get("/api/v1/payouts/cash-outs", headers=runner.headers)
    assert listed.json()["pagination"]["total"] == 1


async def test_cash_out_over_the_balance_is_400_and_changes_nothing(world):
    runner = world.person("runner")
    await earn(world, runner, price=10000)
    account = await add_account(world, runner)
    response = await cash_out(world, runner, 8451, account["id"])
    assert response.status_code == 400
    assert response.json()["error"] == "amount exceeds available balance"
    assert (await cash_out(world, runner, 8450, account["id"])).status_code == 202
    assert (await balance(world, runner))["available_cents"] == 0


async def test_cash_out_input_and_ownership_errors(world):
    runner, other = world.person("runner"), world.person("runner")
    await earn(world, runner)
    account = await add_account(world, other)
    assert (await cash_out(world, runner, 1000, account["id"])).json()["error"] == \
        "destination does not belong to runner"
    assert (await cash_out(world, runner, 1000, account["id"])).status_code == 403
    assert (await cash_out(world, runner, 1000, str(uuid.uuid4()))).status_code == 404
    assert (await cash_out(world, runner, 0, account["id"])).status_code == 400
    assert (await cash_out(world, runner, 1000, "")).status_code == 400
    assert (await cash_out(world, world.person("owner"), 1000, account["id"])).status_code == 403
    assert (await balance(world, runner))["available_cents"] == 127500


async def test_a_transfer_the_rail_never_settles_fails_and_gives_the_money_back(world):
    runner = world.person("runner")
    await earn(world, runner)
    account = await add_account(world, runner)
    world.ctx.rail.delay = timedelta(hours=1)
    body = (await cash_out(world, runner, 5000, account["id"])).json()

    async def processing():
        row = await world.client.get(f"/api/v1/payouts/cash-outs/{body['cashOutId']}",
                                     headers=runner.headers)
        return row.json()["data"]["status"] == "processing"

    await wait_for(processing)
    await run_due_work(world.ctx, now=utcnow() + timedelta(minutes=5))
    row = await world.client.get(f"/api/v1/payouts/cash-outs/{body['cashOutId']}",
                                 headers=runner.headers)
    assert row.json()["data"]["status"] == "failed"
    assert row.json()["data"]["failure_reason"] == "transfer not settled in time"
    assert (await balance(world, runner))["available_cents"] == 127500


async def test_someone_elses_cash_out_is_403(world):
    runner = world.person("runner")
    await earn(world, runner)
    account = await add_account(world, runner)
    body = (await cash_out(world, runner, 1000, account["id"])).json()
    url = f"/api/v1/payouts/cash-outs/{body['cashOutId']}"
    assert (await world.client.get(url, headers=world.person("runner").headers)).status_code == 403
    assert (await world.client.get(url, headers=world.admin.headers)).status_code == 200
