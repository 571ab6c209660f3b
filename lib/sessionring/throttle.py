# The login throttle: failed logins make the next attempt wait, per account and client and
# per account, in fixed memory; device tokens let a browser that logged in before past the
# account-wide wait. Checked before any hashing. (auth.py has the hashing it builds on.)
import os
import time

from micropython import const

from . import cookie
from . import token as _tok
from .auth import hmac_pads, hmac_with

_BLOCK = const(64)  # SHA-256 block size: the longest HMAC key
_BYTES = (bytes, bytearray, memoryview)
_NONCE = const(9)  # device token: 9 random bytes (12 characters) ...
_TAG = const(16)  # ... and a 128-bit HMAC-SHA256 tag (22 characters)
_DEV_MAX = const(160)  # longest device token looked at
_ADDR = const(0)  # kinds of client entry: an address, or a device token's nonce
_DEVICE = const(1)


class Throttle:
    # Failed logins make the next attempt wait, counted twice: per account AND client (the
    # tight limit) and per account (a looser limit on top, for guessing from many addresses).
    #
    #   wait(account, client=None, device=None) -> s  before hashing: answer 429 with
    #       Retry-After s (and hash nothing) while it is > 0
    #   failed(account, client=None, device=None) -> s  after a wrong password: the wait the
    #       same caller now has
    #   succeeded(account, client=None, device=None)  after a right password: forgets that
    #       client's (and that device's) failures only; the account-wide count stays
    #   device_token(account) -> str  a "device cookie" value to set after a success
    #   device_ok(account, value) -> bool  value is a device token this throttle issued for it
    #
    # account: an account name (map unknown names to one shared key, see below); client: the
    # client's address (req.client_addr); device: the device cookie value the request sent, or
    # True for a caller trusted otherwise (a logged-in session changing its password).
    # A valid device token (OWASP "blocking brute force": device cookies) is the client key
    # instead of the address and passes the account-wide wait: a browser that logged in before
    # is delayed by its own failures only. Without client (the old wait(account) convention)
    # every caller is one client.
    #
    # Each count waits as: the first `free` failures cost nothing, then each further one
    # doubles the wait (base_s, 2*base_s, ...) up to max_s, counted from the latest failure.
    # Defaults: per client 3 free, 1 s .. 300 s; per account 10 free, 1 s .. 60 s.
    # Bounds with the defaults (docs/security.md has the reasoning):
    #   - guesses an attacker gets, any number of addresses, no device token: 10 free, then at
    #     most one per 60 s (<= 75 in the first hour, 60 an hour after); from one address at
    #     most one per 300 s after its first 3;
    #   - how long a LAN attacker keeps the real admin out: with a device token, not at all
    #     (the admin waits only for the admin's own failures); without one, each attempt waits
    #     at most account_max_s (60 s), but an attacker guessing from max_s / account_max_s
    #     (5) or more addresses can hold that wait for as long as the attack lasts (a new
    #     browser cannot be told apart from the attacker's): then log in from a device that
    #     has a device cookie, or stop the attacker.
    #
    # Fixed memory: a table of `slots` client entries and one of `accounts` accounts; when one
    # is full, the entry with the least recent failure is reused (which only ever shortens a
    # wait: the account-wide count is what bounds guessing from many addresses). An entry quiet
    # for FORGET_S after its wait is forgotten. device tokens are signed with `key` (32 random
    # bytes per boot by default: pass a stored key to keep device cookies across restarts).
    FORGET_S = 3600

    def __init__(
        self,
        clock=time,
        free=3,
        base_s=1,
        max_s=300,
        slots=16,
        account_free=10,
        account_base_s=1,
        account_max_s=60,
        accounts=4,
        key=None,
    ):
        if free < 0 or base_s < 1 or max_s < base_s or slots < 1:
            raise ValueError("need free >= 0, 1 <= base_s <= max_s, slots >= 1")
        if account_free < 0 or account_base_s < 1 or account_max_s < account_base_s:
            raise ValueError("need account_free >= 0, 1 <= account_base_s <= account_max_s")
        if accounts < 1:
            raise ValueError("need accounts >= 1")
        if key is None:
            key = os.urandom(32)
        if not isinstance(key, _BYTES) or not 16 <= len(key) <= _BLOCK:
            raise ValueError("key must be 16..64 bytes")
        self._clock = clock
        self.free = free
        self.base_s = base_s
        self.max_s = max_s
        self.account_free = account_free
        self.account_base_s = account_base_s
        self.account_max_s = account_max_s
        self._pads = hmac_pads(key)
        # client entries: account, client key, kind, failures, ticks_ms of the latest failure
        self._acct = [None] * slots
        self._who = [None] * slots
        self._kind = bytearray(slots)
        self._fails = [0] * slots
        self._last = [0] * slots
        # account entries
        self._aname = [None] * accounts
        self._afails = [0] * accounts
        self._alast = [0] * accounts

    # -- device tokens ---------------------------------------------------------------------
    def _tag(self, account, nonce):
        mac = hmac_with(self._pads, account.encode() + b"." + nonce)
        return _tok.b64url(mac[:_TAG], False)

    def device_token(self, account):
        # "<account>.<nonce>.<tag>": names the account; only this throttle's key can sign it.
        if not isinstance(account, str) or not account or not cookie.valid_value(account):
            raise ValueError("account must be a non-empty cookie-safe name")
        nonce = _tok.b64url(os.urandom(_NONCE), False)
        return "%s.%s.%s" % (account, nonce, self._tag(account, nonce.encode()))

    def _nonce(self, account, value):
        # The nonce of a valid device token for account, else None. Never raises.
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                value = bytes(value).decode()
            except UnicodeError:
                return None
        if not isinstance(value, str) or not isinstance(account, str):
            return None
        n = len(account)
        if not n + 2 < len(value) <= _DEV_MAX or value[n] != "." or not value.startswith(account):
            return None
        rest = value[n + 1 :]
        nonce = rest[:12]
        if len(rest) != 35 or rest[12] != ".":
            return None
        tag = rest[13:]
        want = self._tag(account, nonce.encode())
        if not _tok.same(tag.encode(), want.encode()):
            return None
        return nonce

    def device_ok(self, account, value):
        return self._nonce(account, value) is not None

    def _key(self, account, client, device):
        # (kind, client key, passes the account-wide wait)
        if device is True:
            return _ADDR, client, True
        if device is not None:
            nonce = self._nonce(account, device)
            if nonce is not None:
                return _DEVICE, nonce, True
        return _ADDR, client, False

    # -- counting --------------------------------------------------------------------------
    @staticmethod
    def _delay(fails, free, base_s, max_s):
        k = fails - free - 1
        if k < 0:
            return 0
        if k >= 24:
            return max_s
        return min(max_s, base_s << k)

    def _age(self, last, delay_s, now):
        # ms since a failure at `last`; -1 when that is too long ago to measure (over half the
        # ticks period) or the entry has been quiet long enough to forget.
        d = self._clock.ticks_diff(now, last)
        if d < 0 or d >= (delay_s + self.FORGET_S) * 1000:
            return -1
        return d

    def _cdelay(self, i):
        return self._delay(self._fails[i], self.free, self.base_s, self.max_s)

    def _adelay(self, j):
        return self._delay(
            self._afails[j], self.account_free, self.account_base_s, self.account_max_s
        )

    def _cfind(self, account, kind, who):
        a = self._acct
        w = self._who
        for i in range(len(a)):
            if a[i] is not None and self._kind[i] == kind and w[i] == who and a[i] == account:
                return i
        return -1

    def _afind(self, account):
        a = self._aname
        for j in range(len(a)):
            if a[j] is not None and a[j] == account:
                return j
        return -1

    def _cleft(self, i, now):
        # ms entry i still makes its client wait (0: none); a forgettable entry is dropped.
        if i < 0:
            return 0
        dl = self._cdelay(i)
        d = self._age(self._last[i], dl, now)
        if d < 0:
            self._acct[i] = None
            self._who[i] = None
            self._fails[i] = 0
            return 0
        return max(0, dl * 1000 - d)

    def _aleft(self, j, now):
        if j < 0:
            return 0
        dl = self._adelay(j)
        d = self._age(self._alast[j], dl, now)
        if d < 0:
            self._aname[j] = None
            self._afails[j] = 0
            return 0
        return max(0, dl * 1000 - d)

    def wait(self, account, client=None, device=None):
        # Seconds (rounded up) before this caller may try again; 0: it may try now.
        kind, who, trusted = self._key(account, client, device)
        now = self._clock.ticks_ms()
        rem = self._cleft(self._cfind(account, kind, who), now)
        if not trusted:
            rem = max(rem, self._aleft(self._afind(account), now))
        return (rem + 999) // 1000

    def failed(self, account, client=None, device=None):
        # Count a failed login. Returns the wait this caller now has, in seconds.
        kind, who, trusted = self._key(account, client, device)
        now = self._clock.ticks_ms()
        i = self._cfind(account, kind, who)
        self._cleft(i, now)  # drops it when forgettable
        if i < 0 or self._acct[i] is None:
            i = self._free_slot(self._acct, self._last, self._cdelay, now)
            self._acct[i] = account
            self._who[i] = who
            self._kind[i] = kind
            self._fails[i] = 0
        if self._fails[i] < self.free + 32:
            self._fails[i] += 1
        self._last[i] = now
        wait = self._cdelay(i)
        if kind == _DEVICE:  # a device's failures count against that device only
            return wait
        j = self._afind(account)
        self._aleft(j, now)
        if j < 0 or self._aname[j] is None:
            j = self._free_slot(self._aname, self._alast, self._adelay, now)
            self._aname[j] = account
            self._afails[j] = 0
        if self._afails[j] < self.account_free + 32:
            self._afails[j] += 1
        self._alast[j] = now
        return wait if trusted else max(wait, self._adelay(j))

    def succeeded(self, account, client=None, device=None):
        # Forget the failures of this client (its address, and its device when it sent one).
        for kind, who in ((_ADDR, client), self._key(account, client, device)[:2]):
            i = self._cfind(account, kind, who)
            if i >= 0:
                self._acct[i] = None
                self._who[i] = None
                self._fails[i] = 0

    def _free_slot(self, names, last, delay, now):
        # A free or forgettable entry, else the one whose latest failure is the oldest.
        best = 0
        best_age = -1
        for i in range(len(names)):
            if names[i] is None:
                return i
            d = self._age(last[i], delay(i), now)
            if d < 0:
                return i
            if d > best_age:
                best = i
                best_age = d
        return best

    def __len__(self):
        # Client entries in the table.
        return len(self._acct) - self._acct.count(None)


# -- CSRF and origin ---------------------------------------------------------------------------
