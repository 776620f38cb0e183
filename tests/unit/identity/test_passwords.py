"""bcrypt hashing off the event loop."""

from kilat.services.identity.passwords import PasswordHasher

HASHER = PasswordHasher(rounds=4)


async def test_hash_verifies_the_right_password_only():
    hashed = await HASHER.hash("correct-horse")
    assert hashed.startswith("$2b$04$") and "correct-horse" not in hashed
    assert await HASHER.verify("correct-horse", hashed) is True
    assert await HASHER.verify("correct-horsf", hashed) is False


async def test_same_password_hashes_differently_each_time():
    assert await HASHER.hash("correct-horse") != await HASHER.hash("correct-horse")


async def test_missing_account_and_overlong_password_never_verify():
    hashed = await HASHER.hash("x" * 72)
    assert await HASHER.verify("correct-horse", None) is False
    assert await HASHER.verify("x" * 72 + "y", hashed) is False


async def test_lone_surrogates_hash_instead_of_crashing():
    hashed = await HASHER.hash("pass\ud800word")
    assert await HASHER.verify("pass\ud800word", hashed) is True
