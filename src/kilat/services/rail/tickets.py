"""Tickets: one per passenger with a signed QR; the gate marks one used exactly once."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, Unprocessable, not_found
from kilat.services.rail import domain
from kilat.services.rail.models import Booking, BookingLine, Ticket
from kilat.services.rail.qr import InvalidTicketCode, TicketSigner
from kilat.services.rail.repository import Bookings
from kilat.services.rail.timetable import DHAKA


def qr_fields(ticket: Ticket, booking: Booking) -> dict:
    return {"v": 1, "tid": str(ticket.id), "tno": ticket.ticket_number, "pnr": booking.pnr,
            "bid": str(booking.id), "train": f"{booking.train_number} {booking.train_name}",
            "date": booking.journey_date.isoformat(), "from": booking.from_code,
            "to": booking.to_code, "name": ticket.passenger_name, "coach": ticket.coach_code,
            "seat": ticket.seat_number}


def issue(session: AsyncSession, booking: Booking, lines: list[BookingLine],
          signer: TicketSigner) -> list[Ticket]:
    tickets = []
    for n, line in enumerate(lines, start=1):
        ticket = Ticket(id=uuid.uuid4(), booking_id=booking.id, line_id=line.id,
                        ticket_number=f"{booking.pnr}-{n}", journey_id=booking.journey_id,
                        journey_date=booking.journey_date, passenger_name=line.passenger_name,
                        seat_number=line.seat_number, coach_code=line.coach_code,
                        status=domain.TicketStatus.VALID, qr="")
        ticket.qr = signer.sign(qr_fields(ticket, booking))
        session.add(ticket)
        tickets.append(ticket)
    return tickets


class TicketService:
    def __init__(self, session: AsyncSession, signer: TicketSigner) -> None:
        self.session = session
        self.signer = signer
        self.repo = Bookings(session)

    async def ticket(self, user: Principal, ticket_id) -> tuple[Ticket, Booking]:
        ticket = await self.repo.load(Ticket, ticket_id)
        booking = ticket and await self.repo.get(ticket.booking_id)
        if ticket is None or booking is None or not (
                booking.user_id == user.user_id or user.is_admin or user.role == "gate"):
            raise not_found("ticket", ticket_id)
        return ticket, booking

    async def validate(self, gatekeeper: Principal, code: str, now: datetime
                       ) -> tuple[Ticket, Booking]:
        """Signature, journey date, then valid -> used once."""
        try:
            fields = self.signer.verify(code)
        except InvalidTicketCode as exc:
            raise BadRequest("invalid ticket code", str(exc)) from None
        ticket = await self.repo.load(Ticket, _uuid(fields.get("tid")))
        if ticket is None:
            raise not_found("ticket", fields.get("tid"))
        booking = await self.repo.get_or_404(ticket.booking_id)
        today = now.astimezone(DHAKA).date()
        # boarding on the journey date; an overnight train still checks tickets the next morning
        if not ticket.journey_date <= today <= ticket.journey_date + timedelta(days=1):
            raise Unprocessable("ticket is not for today", f"journey date {ticket.journey_date}")
        if not await self.repo.use_ticket(ticket.id, now, gatekeeper.user_id):
            await self.session.refresh(ticket)
            raise Conflict(f"ticket is {ticket.status}",
                           f"validated at {ticket.validated_at}" if ticket.validated_at else "")
        await self.session.refresh(ticket)
        return ticket, booking


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadRequest("invalid ticket code", "no ticket id") from None


def qr_png(ticket: Ticket) -> bytes:
    import segno  # imported when a ticket is drawn, not at start-up

    out = io.BytesIO()
    segno.make(ticket.qr, error="m").save(out, kind="png", scale=5, border=2)
    return out.getvalue()


def ticket_pdf(ticket: Ticket, booking: Booking) -> bytes:
    from fpdf import FPDF  # its fonts cost 0.3-0.7 s to import: only when a PDF is asked for

    pdf = FPDF(format=(148, 210))  # A5 portrait, in mm
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "Kilat Rail ticket", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    departure = booking.departure_at.astimezone(DHAKA).strftime("%Y-%m-%d %H:%M")
    for label, value in (("Train", f"{booking.train_number} {booking.train_name}"),
                         ("From / to", f"{booking.from_code} -> {booking.to_code}"),
                         ("Departure", f"{departure} (Dhaka time)"),
                         ("Passenger", ticket.passenger_name),
                         ("Coach / seat", f"{ticket.coach_code} / {ticket.seat_number}"),
                         ("PNR", booking.pnr), ("Ticket", ticket.ticket_number),
                         ("Status", ticket.status)):
        pdf.cell(35, 7, label)
        pdf.cell(0, 7, _latin(value), new_x="LMARGIN", new_y="NEXT")
    image = io.BytesIO(qr_png(ticket))
    pdf.image(image, x=pdf.l_margin, y=pdf.get_y() + 4, w=70)
    return bytes(pdf.output())


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
