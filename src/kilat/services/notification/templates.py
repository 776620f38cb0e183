"""Message templates per event and locale (English, Malay), rendered per channel.

Each entry has a ``title`` and ``body`` (in-app and push). SMS uses ``sms`` or the body; email uses
``email_subject``/``email_body`` or the title/body, inside a greeting and a sign-off.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from kilat.services.notification import verticals
from kilat.services.notification.domain import LOCALES

IN_APP = "in_app"

TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "booking.requested": {
        "en": {"title": "Booking Created",
               "body": "Booking {booking_number} created. Searching for nearby runners..."},
        "ms": {"title": "Tempahan Dibuat",
               "body": "Tempahan {booking_number} telah dibuat. Mencari penghantar berdekatan..."},
    },
    "booking.accepted": {
        "en": {"title": "Runner Assigned!",
               "body": "A runner has accepted your booking {booking_number}"},
        "ms": {"title": "Penghantar Ditugaskan!",
               "body": "Seorang penghantar telah menerima tempahan anda {booking_number}"},
    },
    "booking.pet_picked_up": {
        "en": {"title": "Pet Picked Up",
               "body": "Your pet has been picked up for booking {booking_number}"},
        "ms": {"title": "Haiwan Peliharaan Diambil",
               "body": "Haiwan peliharaan anda telah diambil untuk tempahan {booking_number}"},
    },
    "booking.delivery_confirmed": {
        # the runner's /deliver: the owner has not confirmed anything yet
        "en": {"title": "Pet Delivered",
               "body": "Your runner has delivered your pet for booking {booking_number}. "
                       "Please confirm the delivery in the app."},
        "ms": {"title": "Haiwan Peliharaan Dihantar",
               "body": "Penghantar anda telah menghantar haiwan peliharaan anda untuk tempahan "
                       "{booking_number}. Sila sahkan penghantaran dalam aplikasi."},
    },
    "booking.completed": {
        # whether money moved is told by the payment service's own events, never here
        "en": {"title": "Booking Completed",
               "body": "Booking {booking_number} is complete. "
                       "Thank you for using Kilat Pet Runner!"},
        "ms": {"title": "Tempahan Selesai",
               "body": "Tempahan {booking_number} telah selesai. "
                       "Terima kasih kerana menggunakan Kilat Pet Runner!"},
    },
    "booking.cancelled": {
        "en": {"title": "Booking Cancelled",
               "body": "Booking {booking_number} was cancelled: {reason}"},
        "ms": {"title": "Tempahan Dibatalkan",
               "body": "Tempahan {booking_number} telah dibatalkan: {reason}"},
    },
    "booking.declined": {
        "en": {"title": "Finding Another Runner",
               "body": "The runner could not continue with booking {booking_number}. "
                       "We are finding you another runner."},
        "ms": {"title": "Mencari Penghantar Lain",
               "body": "Penghantar tidak dapat meneruskan tempahan {booking_number}. "
                       "Kami sedang mencari penghantar lain untuk anda."},
    },
    "payment.escrow_held": {
        "en": {"title": "Payment Authorized",
               "body": "{amount} for booking {booking_number} is held safely in escrow"},
        "ms": {"title": "Pembayaran Disahkan",
               "body": "{amount} untuk tempahan {booking_number} disimpan dengan selamat dalam eskrow"},
    },
    "payment.escrow_released": {
        "en": {"title": "Payment Received",
               "body": "You've received {amount} for your delivery"},
        "ms": {"title": "Pembayaran Diterima",
               "body": "Anda telah menerima {amount} untuk penghantaran anda"},
    },
    "payment.escrow_refunded": {
        "en": {"title": "Refund Processed",
               "body": "A refund of {amount} has been processed to your account"},
        "ms": {"title": "Bayaran Balik Diproses",
               "body": "Bayaran balik sebanyak {amount} telah diproses ke akaun anda"},
    },
    "payment.failed": {
        "en": {"title": "Payment Failed", "body": "Payment Failed: {reason}"},
        "ms": {"title": "Pembayaran Gagal", "body": "Pembayaran gagal: {reason}"},
    },
    "payment.cash_out_completed": {
        "en": {"title": "Cash-out Completed", "body": "Your cash-out of {amount} has been paid"},
        "ms": {"title": "Pengeluaran Selesai", "body": "Pengeluaran {amount} anda telah dibayar"},
    },
    "payment.cash_out_failed": {
        "en": {"title": "Cash-out Failed",
               "body": "Your cash-out of {amount} could not be paid: {reason}"},
        "ms": {"title": "Pengeluaran Gagal",
               "body": "Pengeluaran {amount} anda tidak dapat dibayar: {reason}"},
    },
    "payment.subscription_started": {
        "en": {"title": "Subscription Active", "body": "Your {plan} plan is active."},
        "ms": {"title": "Langganan Aktif", "body": "Pelan {plan} anda kini aktif."},
    },
    "payment.subscription_renewed": {
        "en": {"title": "Subscription Renewed", "body": "Your {plan} plan has been renewed."},
        "ms": {"title": "Langganan Diperbaharui", "body": "Pelan {plan} anda telah diperbaharui."},
    },
    "payment.subscription_cancelled": {
        "en": {"title": "Subscription Cancelled", "body": "Your {plan} plan has been cancelled."},
        "ms": {"title": "Langganan Dibatalkan", "body": "Pelan {plan} anda telah dibatalkan."},
    },
    "payment.subscription_expired": {
        "en": {"title": "Subscription Expired",
               "body": "Your {plan} plan has expired. Renew it any time in the app."},
        "ms": {"title": "Langganan Tamat",
               "body": "Pelan {plan} anda telah tamat tempoh. Perbaharuinya bila-bila masa "
                       "dalam aplikasi."},
    },
    "payment.referral_credited": {
        "en": {"title": "Referral Reward",
               "body": "A referral reward of {amount} has been credited to your account"},
        "ms": {"title": "Ganjaran Rujukan",
               "body": "Ganjaran rujukan sebanyak {amount} telah dikreditkan ke akaun anda"},
    },
    "tracking.started": {
        "en": {"title": "Live Tracking Started",
               "body": "Live tracking started for booking {booking_number}. "
                       "Follow your pet's trip in the app."},
        "ms": {"title": "Penjejakan Langsung Bermula",
               "body": "Penjejakan langsung bermula untuk tempahan {booking_number}. "
                       "Ikuti perjalanan haiwan peliharaan anda dalam aplikasi."},
    },
    "tracking.completed": {
        "en": {"title": "Tracking Completed",
               "body": "Tracking completed. Total distance: {distance_km} km"},
        "ms": {"title": "Penjejakan Selesai",
               "body": "Penjejakan selesai. Jumlah jarak: {distance_km} km"},
    },
    "chat.message_sent": {
        "en": {"title": "New message from {sender}", "body": "{content}"},
        "ms": {"title": "Mesej baharu daripada {sender}", "body": "{content}"},
    },
    "chat.image_sent": {
        "en": {"title": "New message from {sender}", "body": "{sender} sent a photo"},
        "ms": {"title": "Mesej baharu daripada {sender}", "body": "{sender} menghantar foto"},
    },
    # one welcome per role (the rule picks it): each tells that role what it can do next
    "identity.user_registered": {
        "en": {"title": "Welcome to Kilat", "body": "Your Kilat account is ready."},
        "ms": {"title": "Selamat Datang ke Kilat", "body": "Akaun Kilat anda sudah sedia."},
    },
    "identity.user_registered.owner": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat Pet Runner account is ready.",
               "email_body": "Your Kilat Pet Runner account is ready. Book your pet's first "
                             "trip whenever you like."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun Kilat Pet Runner anda sudah sedia.",
               "email_body": "Akaun Kilat Pet Runner anda sudah sedia. Tempah perjalanan pertama "
                             "haiwan peliharaan anda bila-bila masa."},
    },
    "identity.user_registered.runner": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat runner account is ready.",
               "email_body": "Your Kilat runner account is ready. Set up your runner profile "
                             "and go online to receive delivery jobs near you."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun penghantar Kilat anda sudah sedia.",
               "email_body": "Akaun penghantar Kilat anda sudah sedia. Lengkapkan profil "
                             "penghantar anda dan dalam talian untuk menerima tugasan "
                             "penghantaran berdekatan."},
    },
    "identity.user_registered.shop": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat shop account is ready.",
               "email_body": "Your Kilat shop account is ready. Add your shop and its products "
                             "so pet owners can find you."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun kedai Kilat anda sudah sedia.",
               "email_body": "Akaun kedai Kilat anda sudah sedia. Tambah kedai dan produk anda "
                             "supaya pemilik haiwan dapat mencari anda."},
    },
    "identity.user_registered.passenger": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat passenger account is ready.",
               "email_body": "Your Kilat passenger account is ready. Sign in with it to "
                             "request a ride or book a train seat."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun penumpang Kilat anda sudah sedia.",
               "email_body": "Akaun penumpang Kilat anda sudah sedia. Log masuk untuk meminta "
                             "tunggangan atau menempah tempat duduk kereta api."},
    },
    "identity.user_registered.driver": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat driver account is ready.",
               "email_body": "Your Kilat driver account is ready. Switch on your beacon when "
                             "you are free to receive ride requests near you."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun pemandu Kilat anda sudah sedia.",
               "email_body": "Akaun pemandu Kilat anda sudah sedia. Hidupkan isyarat anda "
                             "apabila anda bebas untuk menerima permintaan tunggangan "
                             "berdekatan."},
    },
    "identity.user_registered.customer": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat parcels account is ready.",
               "email_body": "Your Kilat parcels account is ready. Place an order to send a "
                             "parcel and follow it by its tracking number."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun bungkusan Kilat anda sudah sedia.",
               "email_body": "Akaun bungkusan Kilat anda sudah sedia. Buat pesanan untuk "
                             "menghantar bungkusan dan ikutinya dengan nombor penjejakannya."},
    },
    "identity.user_registered.courier": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat courier account is ready.",
               "email_body": "Your Kilat courier account is ready. Shipments you are assigned "
                             "will appear in your app."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun kurier Kilat anda sudah sedia.",
               "email_body": "Akaun kurier Kilat anda sudah sedia. Penghantaran yang "
                             "ditugaskan kepada anda akan dipaparkan dalam aplikasi anda."},
    },
    "identity.user_registered.gate": {
        "en": {"title": "Welcome to Kilat",
               "body": "Your Kilat gate staff account is ready.",
               "email_body": "An administrator created your Kilat gate staff account. Sign in "
                             "with this email to check passengers' tickets at the gate."},
        "ms": {"title": "Selamat Datang ke Kilat",
               "body": "Akaun kakitangan pintu Kilat anda sudah sedia.",
               "email_body": "Pentadbir telah mencipta akaun kakitangan pintu Kilat anda. Log "
                             "masuk dengan e-mel ini untuk memeriksa tiket penumpang di pintu."},
    },
    "identity.sign_in_code_requested": {
        "en": {"title": "Sign-in code",
               "body": "A sign-in code was sent to your phone.",
               "sms": "your sign-in code is {sign_in_code}. It is valid for {minutes} minutes. "
                      "Never share it; Kilat will never ask you for it."},
        "ms": {"title": "Kod log masuk",
               "body": "Kod log masuk telah dihantar ke telefon anda.",
               "sms": "kod log masuk anda ialah {sign_in_code}. Sah selama {minutes} minit. "
                      "Jangan kongsikannya; Kilat tidak akan memintanya daripada anda."},
    },
    "identity.password_reset_requested": {
        "en": {"title": "Password Reset",
               "body": "A password reset was requested for your account. Check your email.",
               "email_body": "Use this code to reset your password: {token}\n"
                             "It expires at {expires_at}. If you did not ask for it, "
                             "ignore this email."},
        "ms": {"title": "Tetapan Semula Kata Laluan",
               "body": "Tetapan semula kata laluan telah diminta untuk akaun anda. "
                       "Semak e-mel anda.",
               "email_body": "Gunakan kod ini untuk menetapkan semula kata laluan anda: {token}\n"
                             "Kod ini tamat tempoh pada {expires_at}. Jika anda tidak "
                             "memintanya, abaikan e-mel ini."},
    },
    "identity.referral_recorded": {
        "en": {"title": "New Referral",
               "body": "Someone joined Kilat with your referral code {code}"},
        "ms": {"title": "Rujukan Baharu",
               "body": "Seseorang telah menyertai Kilat menggunakan kod rujukan anda {code}"},
    },
    "review.created": {
        "en": {"title": "New Review",
               "body": "You received a {rating}-star review for booking {booking_number}"},
        "ms": {"title": "Ulasan Baharu",
               "body": "Anda menerima ulasan {rating} bintang untuk tempahan {booking_number}"},
    },
} | verticals.TEMPLATES

ROLE_LABELS = {
    "en": {"owner": "the pet owner", "runner": "your runner", "admin": "Kilat support"},
    "ms": {"owner": "pemilik haiwan", "runner": "penghantar anda", "admin": "sokongan Kilat"},
}

_EMAIL_FRAME = {
    "en": ("Hi {name},", "— Kilat Pet Runner"),
    "ms": ("Hai {name},", "— Kilat Pet Runner"),
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(text: str, context: dict[str, Any]) -> str:
    return string.Formatter().vformat(text, (), _Values(context))


def resolve_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "en"


def render(template: str, locale: str | None, channel: str, context: dict[str, Any]) -> Rendered:
    """The text one channel shows for ``template`` in ``locale`` (English when unknown)."""
    locale = resolve_locale(locale)
    entry = TEMPLATES[template][locale]
    title, body = _fill(entry["title"], context), _fill(entry["body"], context)
    if channel == "sms":
        return Rendered(title, f"Kilat: {_fill(entry.get('sms', entry['body']), context)}")
    if channel == "email":
        greeting, signoff = _EMAIL_FRAME[locale]
        subject = _fill(entry.get("email_subject", entry["title"]), context)
        text = _fill(entry.get("email_body", entry["body"]), context)
        name = context.get("name") or ("there" if locale == "en" else "")
        return Rendered(subject, f"{greeting.format(name=name).replace(' ,', ',')}\n\n{text}\n\n{signoff}\n")
    return Rendered(title, body)
