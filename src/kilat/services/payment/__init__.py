"""Payment service: escrow saga, fee split, promos, subscriptions, referral credits, cash-out,
and the verticals' charges."""

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.platform.settings import SERVICE_PORTS
from kilat.services.payment.charges import api as charges
from kilat.services.payment.context import build_context
from kilat.services.payment.escrow import api as escrow
from kilat.services.payment.handlers import handlers
from kilat.services.payment.jobs import start_jobs
from kilat.services.payment.ledger import api as ledger
from kilat.services.payment.models import metadata
from kilat.services.payment.payouts import api as payouts
from kilat.services.payment.promos import api as promos
from kilat.services.payment.promos.service import seed_demo
from kilat.services.payment.referrals import api as referrals
from kilat.services.payment.settings import PaymentSettings
from kilat.services.payment.subscriptions import api as subscriptions

# charges before escrow: /payments/charges must not be read as /payments/{payment_id}
ROUTERS = [*referrals.routers, *charges.routers, *escrow.routers, *promos.routers, *subscriptions.routers,
           *payouts.routers, *ledger.routers]


async def _start(runtime: ServiceRuntime) -> None:
    start_jobs(runtime)


async def _stop(runtime: ServiceRuntime) -> None:
    await runtime.context.close()


descriptor = ServiceDescriptor(
    name="payment",
    port=SERVICE_PORTS["payment"],
    title="Kilat payment service",
    routers=ROUTERS,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    on_start=[_start],
    on_stop=[_stop],
    seed_demo=seed_demo,
    settings=PaymentSettings,
    context=build_context,
)
