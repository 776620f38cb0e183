"""Identity routes: accounts and sessions, runner applications, referrals, admin, signing keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from kilat.platform import revocations
from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session, error_response
from kilat.platform.schemas import Envelope, Message, Page, Paging, error_responses, ok, page_of
from kilat.services.identity import service, sign_in
from kilat.services.identity.context import Ctx
from kilat.services.identity.schemas import (
    AuthResponse,
    BanRequest,
    CodeSent,
    ForgotPasswordRequest,
    JwkSet,
    LoginRequest,
    LogoutRequest,
    OtpRequest,
    OtpVerify,
    ProfileUpdate,
    ReferralCode,
    ReferralStats,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    RunnerApplicationCreate,
    RunnerApplicationReceipt,
    StaffCreate,
    User,
    UserStats,
)


def _authority(context: Ctx) -> service.Authority:
    return context.authority


Authority = Annotated[service.Authority, Depends(_authority)]
Admin = RequireRole("admin")

auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])
runners = APIRouter(prefix="/api/v1/runners", tags=["runner applications"])
referrals = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])
keys = APIRouter(tags=["keys"])

USER_ROUTE = {"response_model_exclude_none": True}


def _signed_in(result: service.AuthResult) -> dict:
    return ok(AuthResponse.model_validate(result))


@auth.post("/register", status_code=201, response_model=Envelope[AuthResponse],
           responses=error_responses(400, 403, 409), **USER_ROUTE)
async def register(body: RegisterRequest, session: Session, authority: Authority) -> dict:
    return _signed_in(await service.register(session, authority, body))


@auth.post("/login", response_model=Envelope[AuthResponse],
           responses=error_responses(400, 401, 403), **USER_ROUTE)
async def login(body: LoginRequest, session: Session, authority: Authority) -> dict:
    return _signed_in(await service.login(session, authority, body.email, body.password))


@auth.post("/otp/request", status_code=202, response_model=Envelope[CodeSent],
           responses=error_responses(400, 422, 429))
async def request_sign_in_code(body: OtpRequest, request: Request, session: Session,
                               context: Ctx) -> dict | JSONResponse:
    """Text a sign-in code to the number (it may have no account yet); one per 60 s."""
    rules = context.phone_sign_in
    client = sign_in.client_address(request.client.host if request.client else None,
                                    request.headers.get("x-forwarded-for"), rules.trusted_proxies)
    try:
        sent = await sign_in.request_code(session, rules, body.phone, client)
    except sign_in.TryLater as exc:
        return _later(exc)
    return ok(CodeSent.model_validate(sent))


@auth.post("/otp/verify", response_model=Envelope[AuthResponse],
           responses=error_responses(400, 403, 409, 422), **USER_ROUTE)
async def verify_sign_in_code(body: OtpVerify, session: Session, authority: Authority,
                              context: Ctx) -> dict | JSONResponse:
    """Sign in with the texted code; a number's first sign-in creates its passenger or driver
    account. A wrong code uses up one of its attempts."""
    try:
        result = await sign_in.verify_code(session, authority, context.phone_sign_in, body)
    except sign_in.WrongCode as exc:
        # answered, not raised, so that the boundary commits the spent attempt
        return error_response(exc.status_code, exc.error, exc.detail)
    return _signed_in(result)


def _later(exc: sign_in.TryLater) -> JSONResponse:
    return error_response(exc.status_code, exc.error, exc.detail,
                          {"Retry-After": str(exc.retry_after)})


@auth.post("/refresh", response_model=Envelope[AuthResponse],
           responses=error_responses(400, 401), **USER_ROUTE)
async def refresh(body: RefreshRequest, session: Session, authority: Authority) -> dict | JSONResponse:
    """Exchange a refresh token for a new pair; a token works once, and presenting a spent one
    revokes every token of its session (401)."""
    try:
        result = await service.refresh(session, authority, body.refresh_token)
    except service.RefreshTokenReused as exc:
        # answered, not raised, so that the boundary commits the family's revocation
        return error_response(exc.status_code, exc.error, exc.detail)
    return _signed_in(result)


@auth.post("/logout", response_model=Envelope[Message], responses=error_responses(400, 401, 403))
async def logout(session: Session, authority: Authority, caller: CurrentUser,
                 body: LogoutRequest | None = None) -> dict:
    """End the session of the given refresh token, or all of the caller's sessions."""
    await service.logout(session, authority, caller, body.refresh_token if body else None)
    return ok(Message(message="logged out successfully"))


@auth.get("/profile", response_model=Envelope[User], responses=error_responses(401, 403, 404),
          **USER_ROUTE)
async def get_profile(session: Session, caller: CurrentUser) -> dict:
    return ok(User.model_validate(await service.profile(session, caller)))


@auth.put("/profile", response_model=Envelope[User],
          responses=error_responses(400, 401, 403, 404, 409), **USER_ROUTE)
async def update_profile(body: ProfileUpdate, session: Session, caller: CurrentUser,
                         authority: Authority) -> dict:
    user = await service.update_profile(session, caller, body, authority.phone_region)
    return ok(User.model_validate(user))


@auth.post("/forgot-password", status_code=202, response_class=Response,
           responses={202: {"description": "Accepted, empty body, whether or not the email is known"}}
           | error_responses(400))
async def forgot_password(body: ForgotPasswordRequest, session: Session,
                          authority: Authority) -> Response:
    """Send a reset token to a known email; the answer never tells whether it is known."""
    await service.request_password_reset(session, authority, body.email)
    return Response(status_code=202)


@auth.post("/reset-password", response_model=Envelope[Message], responses=error_responses(400))
async def reset_password(body: ResetPasswordRequest, session: Session, authority: Authority) -> dict:
    await service.reset_password(session, authority, body.token, body.new_password)
    return ok(Message(message="password reset successful"))


@runners.post("/apply", status_code=201, response_model=Envelope[RunnerApplicationReceipt],
              responses=error_responses(400, 409))
async def apply_as_runner(body: RunnerApplicationCreate, session: Session) -> dict:
    application = await service.apply_as_runner(session, body)
    return ok(RunnerApplicationReceipt(application_id=application.application_id))


@referrals.get("/code", response_model=Envelope[ReferralCode], responses=error_responses(401, 403, 404, 409))
async def my_referral_code(session: Session, caller: CurrentUser) -> dict:
    return ok(ReferralCode(referral_code=await service.referral_code(session, caller)))


@referrals.get("/me", response_model=Envelope[ReferralStats], responses=error_responses(401, 403, 404, 409))
async def my_referrals(session: Session, caller: CurrentUser) -> dict:
    return ok(ReferralStats.model_validate(await service.referral_stats(session, caller)))


@admin.get("/users", response_model=Page[User], responses=error_responses(400, 401, 403), **USER_ROUTE)
async def list_users(session: Session, paging: Paging, _: Admin) -> dict:
    users, total = await service.list_users(session, paging)
    return page_of([User.model_validate(user) for user in users], total, paging)


@admin.post("/users", status_code=201, response_model=Envelope[User],
            responses=error_responses(400, 401, 403, 409), **USER_ROUTE)
async def create_staff(body: StaffCreate, session: Session, authority: Authority, _: Admin) -> dict:
    """Create a staff account (role ``gate``): staff cannot sign themselves up."""
    user = await service.create_staff(session, authority.passwords, body.email, body.password,
                                      body.full_name, body.role)
    return ok(User.model_validate(user))


@admin.get("/users/{user_id}", response_model=Envelope[User],
           responses=error_responses(400, 401, 403, 404), **USER_ROUTE)
async def get_user(user_id: uuid.UUID, session: Session, _: Admin) -> dict:
    return ok(User.model_validate(await service.get_user(session, user_id)))


@admin.post("/users/{user_id}/ban", response_model=Envelope[Message],
            responses=error_responses(400, 401, 403, 404, 409))
async def ban_user(user_id: uuid.UUID, session: Session, caller: Admin, context: Ctx,
                   body: BanRequest | None = None) -> dict:
    """Ban a user and end their sessions: refresh tokens are revoked and, once committed, every
    process refuses the user's access tokens. Admins, the caller included, cannot be banned."""
    if await service.ban_user(session, caller, user_id, body.reason if body else None):
        revocations.announce_after_commit(session, context.infra, user_id)
    return ok(Message(message="user banned successfully"))


@admin.get("/stats/users", response_model=Envelope[UserStats], responses=error_responses(401, 403))
async def user_stats(session: Session, _: Admin) -> dict:
    return ok(UserStats.model_validate(await service.user_stats(session)))


@keys.get("/.well-known/jwks.json", response_model=JwkSet)
async def jwks(authority: Authority) -> dict:
    """The public key that verifies Kilat access tokens (RFC 7517 key set, not enveloped)."""
    return authority.jwks()


routers = [auth, runners, referrals, admin, keys]
