"""Who sees a charge, and the payee's side: a driver's or courier's balance and cash-out."""

from tests.service.payment.charges import charge_of, charge_request
from tests.service.payment.support import wait_for
from tests.service.payment.test_payouts import ACCOUNT, add_account, balance, cash_out


async def paid(world, payer, payee=None, **fields):
    request = charge_request(payer, payee=payee, **fields)
    await world.send(request)
    await charge_of(world, request.charge_id, "captured")
    return request


async def test_a_drivers_share_is_their_idr_balance(world):
    driver = world.person("driver")
    await paid(world, world.person("passenger"), driver, amount=10000)
    await paid(world, world.person("passenger"), driver, amount=8000)
    mine = await balance(world, driver)
    assert (mine["available_cents"], mine["currency"], mine["role"]) == (9500 + 7600, "IDR",
                                                                        "driver")
    assert mine["user_id"] == str(driver.user_id) and mine["cash_out_fee_cents"] == 0


async def test_a_driver_cashes_out_in_idr_as_a_runner_does(world):
    driver = world.person("driver")
    await paid(world, world.person("passenger"), driver, amount=100000)
    account = await add_account(world, driver, bank_name="BCA", kind="bank_account")
    response = await cash_out(world, driver, 95001, account["id"])
    assert response.status_code == 400
    assert response.json()["error"] == "amount exceeds available balance"
    accepted = await cash_out(world, driver, 50000, account["id"])
    assert accepted.status_code == 202, accepted.text
    assert (accepted.json()["data"]["currency"], accepted.json()["data"]["feeCents"]) == ("IDR", 0)
    assert (await balance(world, driver))["available_cents"] == 45000

    async def completed():
        row = await world.client.get(f"/api/v1/payouts/cash-outs/{accepted.json()['cashOutId']}",
                                     headers=driver.headers)
        return row.json()["data"]["status"] == "completed"

    await wait_for(completed)
    [done] = await world.await_events("payment.cash_out_completed")
    assert (done["currency"], done["amount_cents"], done["user_id"]) == (
        "IDR", 50000, str(driver.user_id))


async def test_a_configured_fee_applies_to_a_courier_in_their_currency(world):
    world.ctx.settings.cash_out_fees["USD"] = 30
    courier = world.person("courier")
    await paid(world, world.person("customer"), courier, source="parcels", amount=2000)
    mine = await balance(world, courier)
    assert (mine["available_cents"], mine["currency"], mine["cash_out_fee_cents"]) == (
        1900, "USD", 30)
    account = await add_account(world, courier)
    assert (await cash_out(world, courier, 1871, account["id"])).status_code == 400
    assert (await cash_out(world, courier, 1870, account["id"])).status_code == 202
    assert (await balance(world, courier))["available_cents"] == 0
    report = await world.ledger()
    assert report["balanced"], report


async def test_a_payee_with_nothing_earned_sees_a_zero_balance_in_their_roles_currency(world):
    mine = await balance(world, world.person("driver"))
    assert (mine["available_cents"], mine["currency"]) == (0, "IDR")
    runner = await balance(world, world.person("runner"))
    assert (runner["available_cents"], runner["currency"]) == (0, "MYR")
    courier = await balance(world, world.person("courier"))
    assert (courier["currency"], courier["cash_out_fee_cents"]) == ("MYR", 50)
    asked = await world.client.get("/api/v1/payouts/balance?currency=BDT",
                                   headers=world.person("driver").headers)
    assert asked.json()["data"]["currency"] == "BDT"
    bad = await world.client.get("/api/v1/payouts/balance?currency=rupiah",
                                 headers=world.person("driver").headers)
    assert bad.status_code == 400


async def test_payer_and_passenger_roles_have_no_balance(world):
    for role in ("passenger", "customer", "owner", "gate"):
        response = await world.client.get("/api/v1/payouts/balance",
                                          headers=world.person(role).headers)
        assert response.status_code == 403, role
    response = await world.client.post("/api/v1/payouts/destinations", json=ACCOUNT,
                                       headers=world.person("passenger").headers)
    assert response.status_code == 403


async def test_a_charge_is_read_by_its_payer_its_payee_and_an_admin_only(world):
    passenger, driver = world.person("passenger"), world.person("driver")
    request = await paid(world, passenger, driver)
    url = f"/api/v1/payments/charges/{request.charge_id}"
    for reader in (passenger, driver, world.admin):
        response = await world.client.get(url, headers=reader.headers)
        assert response.status_code == 200
        assert response.json()["data"]["currency"] == "IDR"
    stranger = await world.client.get(url, headers=world.person("passenger").headers)
    assert stranger.status_code == 404
    assert stranger.json()["error"] == "Charge not found"


async def test_a_payer_lists_their_own_charges(world):
    passenger = world.person("passenger")
    for amount in (1000, 2000, 3000):
        await paid(world, passenger, amount=amount)
    await paid(world, world.person("passenger"))
    response = await world.client.get("/api/v1/payments/charges?limit=2",
                                      headers=passenger.headers)
    body = response.json()
    assert body["pagination"]["total"] == 3 and len(body["data"]) == 2
    assert {c["payer_id"] for c in body["data"]} == {str(passenger.user_id)}
    assert all(c["currency"] == "IDR" for c in body["data"])


async def test_the_admin_filters_charges_by_source_and_status(world):
    passenger = world.person("passenger")
    await paid(world, passenger)
    await paid(world, world.person("customer"), source="parcels")
    declined = charge_request(passenger, source="rail", payment_method="pm_card_lostCard")
    await world.send(declined)
    await charge_of(world, declined.charge_id, "failed")
    url = "/api/v1/admin/payments/charges"
    listed = await world.client.get(f"{url}?source=parcels", headers=world.admin.headers)
    assert [c["source"] for c in listed.json()["data"]] == ["parcels"]
    failed = await world.client.get(f"{url}?status=failed", headers=world.admin.headers)
    assert [c["id"] for c in failed.json()["data"]] == [str(declined.charge_id)]
    assert (await world.client.get(f"{url}?status=lost", headers=world.admin.headers)
            ).status_code == 400
    assert (await world.client.get(url, headers=passenger.headers)).status_code == 403
