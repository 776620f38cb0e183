import pytest

from kilat.platform.schemas import page_params, total_pages


@pytest.mark.parametrize(("total", "limit", "pages"), [(0, 20, 0), (1, 20, 1), (20, 20, 1),
                                                       (21, 20, 2), (42, 20, 3), (100, 100, 1)])
def test_total_pages_is_ceiling_of_total_over_limit(total, limit, pages):
    assert total_pages(total, limit) == pages


@pytest.mark.parametrize(("page", "limit", "expected"), [(1, 20, (1, 20)), (0, 20, (1, 20)),
                                                         (-3, 5, (1, 5)), (2, 0, (2, 20)),
                                                         (2, 101, (2, 20)), (3, 100, (3, 100))])
async def test_out_of_range_page_params_fall_back_to_defaults(page, limit, expected):
    params = await page_params(page, limit)
    assert (params.page, params.limit) == expected


async def test_offset_skips_earlier_pages():
    assert (await page_params(3, 10)).offset == 20
