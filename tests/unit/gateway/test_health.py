from kilat.gateway.health import summarise


def test_all_healthy_is_200_healthy():
    status, body = summarise({"identity": "healthy", "booking": "healthy"})
    assert status == 200
    assert body == {"status": "healthy", "service": "api-gateway",
                    "services": {"service-identity": "healthy", "service-booking": "healthy"}}


def test_one_unhealthy_service_degrades_the_platform_with_503():
    status, body = summarise({"identity": "healthy", "review": "unhealthy"})
    assert (status, body["status"]) == (503, "degraded")
    assert body["services"]["service-review"] == "unhealthy"
