"""Request and response bodies of the payout routes (cash-out keeps its camelCase)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from kilat.platform.schemas import Cents, Envelope, Int32, Schema

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AccountNumber = Annotated[str, StringConstraints(strip_whitespace=True,
                                                 pattern=r"^\+?[0-9]{6,20}$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                            pattern=r"^[A-Za-z]{3}$")]


class DestinationCreate(Schema):
    kind: Literal["bank_account", "duitnow"] = "bank_account"
    bank_name: Name
    account_name: Name
    account_number: AccountNumber
    is_default: bool = False


class DestinationUpdate(Schema):
    bank_name: Name | None = None
    account_name: Name | None = None
    account_number: AccountNumber | None = None
    is_default: bool | None = None
    version: Int32 | None = Field(None,
                                  description="send the version you read to avoid lost updates")


class Destination(Schema):
    id: uuid.UUID
    runner_id: uuid.UUID
    kind: str
    bank_name: str
    account_name: str
    account_last4: str
    is_default: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CashOutCreate(Schema):
    amount_myr_cents: Cents = Field(
        alias="amountMyrCents", gt=0,
        description="minor units of the balance's currency (the name the runner clients send)")
    destination_id: uuid.UUID = Field(alias="destinationId")
    currency: Currency | None = Field(
        None, description="the balance to pay from; a driver's or courier's earned one if omitted")


class CashOutAccepted(Schema):
    cash_out_id: uuid.UUID = Field(serialization_alias="cashOutId")
    eta_minutes: int = Field(serialization_alias="etaMinutes")
    status: str
    amount_myr_cents: int = Field(serialization_alias="amountMyrCents")
    fee_cents: int = Field(serialization_alias="feeCents")
    currency: str


class CashOutAcceptedEnvelope(Envelope[CashOutAccepted]):
    """The envelope, plus the two top-level fields the original clients read."""

    cash_out_id: uuid.UUID = Field(serialization_alias="cashOutId")
    eta_minutes: int = Field(serialization_alias="etaMinutes")


class CashOut(Schema):
    id: uuid.UUID
    runner_id: uuid.UUID
    destination_id: uuid.UUID
    amount_cents: int
    fee_cents: int
    currency: str
    status: str
    rail_reference: str | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class PayeeBalance(Schema):
    """A runner's, driver's or courier's balance, in minor units of ``currency``."""

    runner_id: uuid.UUID = Field(description="the payee's id (named so for the runner clients)")
    user_id: uuid.UUID
    role: str
    available_cents: int
    pending_cash_out_cents: int
    cash_out_fee_cents: int
    currency: str
