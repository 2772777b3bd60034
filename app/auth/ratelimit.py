"""Sign-in throttling in Redis, counted before the password is checked.

Every attempt is counted first (INCR) and refused once a budget is spent, so guesses sent in
parallel cannot all slip past a check made before any of them failed. Three budgets per window:
an account from one address, an address over all accounts (wider: an office shares one address),
and an account over all addresses (so rotating addresses does not give unlimited guesses).
A success clears the account's budget for that address.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from app.kit.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, redis: Redis, *, attempts: int, window_seconds: int, prefix: str = "") -> None:
        self.redis = redis
        self.attempts = attempts
        self.window = window_seconds
        self.prefix = prefix

    def _keys(self, account: str, client: str) -> dict[str, int]:
        """Each key with its budget. The account is hashed: keys stay short whatever was typed."""
        digest = hashlib.sha256(account.encode()).hexdigest()[:32]
        return {
            f"{self.prefix}login:acct-addr:{digest}:{client}": self.attempts,
            f"{self.prefix}login:addr:{client}": self.attempts * 10,
            f"{self.prefix}login:acct:{digest}": self.attempts * 4,
        }

    async def attempt(self, account: str, client: str) -> None:
        """Count a sign-in attempt; refuse it if any budget is already spent."""
        keys = self._keys(account, client)
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys:
                # The window opens with the first attempt; INCR keeps the TTL. (Not EXPIRE NX:
                # that needs Redis 7, and the embedded server is 6.2.)
                pipe.set(key, 0, ex=self.window, nx=True)
                pipe.incr(key)
            results = await pipe.execute()
        counts = results[1::2]
        spent = [key for (key, budget), count in zip(keys.items(), counts, strict=True) if count > budget]
        if spent:
            retry_after = max([await self.redis.ttl(key) for key in spent] + [1])
            raise TooManyRequests("Too many sign-in attempts; try again later.", retry_after=retry_after)

    async def succeeded(self, account: str, client: str) -> None:
        await self.redis.delete(next(iter(self._keys(account, client))))
