"""Failed-login throttling in Redis: a fixed window per account and client address."""

from __future__ import annotations

from redis.asyncio import Redis

from app.kit.errors import TooManyRequests


class LoginThrottle:
    def __init__(self, redis: Redis, *, attempts: int, window_seconds: int) -> None:
        self.redis = redis
        self.attempts = attempts
        self.window = window_seconds

    def _keys(self, account: str, client: str) -> tuple[str, str]:
        # The per-address budget is wider: one office behind one address has many people.
        return f"login-fail:acct:{account}:{client}", f"login-fail:addr:{client}"

    async def check(self, account: str, client: str) -> None:
        account_key, address_key = self._keys(account, client)
        account_fails, address_fails = await self.redis.mget(account_key, address_key)
        if int(account_fails or 0) >= self.attempts or int(address_fails or 0) >= self.attempts * 10:
            retry_after = max(await self.redis.ttl(account_key), await self.redis.ttl(address_key), 1)
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again later.",
                retry_after=retry_after,
            )

    async def failed(self, account: str, client: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(account, client):
                # The window starts with the first failure; INCR keeps the TTL. (Not EXPIRE NX:
                # that needs Redis 7, and the embedded server is 6.2.)
                pipe.set(key, 0, ex=self.window, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def succeeded(self, account: str, client: str) -> None:
        await self.redis.delete(self._keys(account, client)[0])
