"""Admin views: payments with filters, payment stats, the ledger proof."""


async def paid(world, price):
    owner = world.person("owner")
    booking = await world.book(owner, price=price)
    payment = (await world.pay(owner, booking)).json()["data"]
    return owner, booking, payment


async def test_admin_lists_payments_with_filters_and_pages(world):
    owner, _, first = await paid(world, 4423)
    _, booking, second = await paid(world, 150000)
    runner = world.person("runner")
    await world.accept(booking, runner)
    await world.deliver(booking)
    await world.payment_in(second["id"], "released")
    admin = world.admin.headers

    async def ids(query):
        response = await world.client.get(f"/api/v1/admin/payments{query}", headers=admin)
        assert response.status_code == 200
        return [p["id"] for p in response.json()["data"]]

    assert set(await ids("")) == {first["id"], second["id"]}
    assert await ids("?status=released") == [second["id"]]
    assert await ids(f"?owner_id={owner.user_id}") == [first["id"]]
    assert await ids(f"?runner_id={runner.user_id}") == [second["id"]]
    assert await ids(f"?booking_id={booking}") == [second["id"]]
    page = await world.client.get("/api/v1/admin/payments?page=2&limit=1", headers=admin)
    assert page.json()["pagination"] == {"total": 2, "page": 2, "limit": 1, "total_pages": 2}
    assert (await world.client.get("/api/v1/admin/payments?status=bogus",
                                   headers=admin)).status_code == 400


async def test_payment_stats_count_statuses_and_revenue_from_the_ledger(world):
    await paid(world, 4423)
    _, booking, second = await paid(world, 150000)
    await world.accept(booking, world.person("runner"))
    await world.deliver(booking)
    await world.payment_in(second["id"], "released")
    response = await world.client.get("/api/v1/admin/stats/payments", headers=world.admin.headers)
    stats = response.json()["data"]
    assert stats["total_payments"] == 2
    assert stats["by_status"] == {"held": 1, "released": 1}
    assert (stats["total_revenue_cents"], stats["released_volume_cents"], stats["held_cents"]) == \
        (22500, 150000, 4423)


async def test_admin_views_are_admin_only(world):
    owner = world.person("owner")
    for url in ("/api/v1/admin/payments", "/api/v1/admin/stats/payments",
                "/api/v1/admin/payments/ledger", "/api/v1/admin/promos"):
        assert (await world.client.get(url, headers=owner.headers)).status_code == 403
        assert (await world.client.get(url)).status_code == 401


async def test_the_ledger_proof_catches_a_tampered_posting(world):
    from sqlalchemy import update

    from kilat.services.payment.models import LedgerPosting

    await paid(world, 4423)
    assert (await world.ledger())["balanced"] is True
    async with world.runtime.database.session() as session:
        await session.execute(update(LedgerPosting).where(LedgerPosting.amount_cents > 0)
                              .values(amount_cents=LedgerPosting.amount_cents + 1))
    report = await world.ledger()
    assert report["balanced"] is False and report["total_cents"] == 1
    assert len(report["unbalanced_entries"]) == 1 and report["escrow_mismatches"]
    async with world.runtime.database.session() as session:
        await session.execute(update(LedgerPosting).where(LedgerPosting.amount_cents > 0)
                              .values(amount_cents=LedgerPosting.amount_cents - 1))
