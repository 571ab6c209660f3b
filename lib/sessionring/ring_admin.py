# RingAdmin: the session ring's cold half, what admin pages and upkeep ask of it and the
# request path never does: counting, stats, listing, a session by its public handle, ending
# a user's sessions, sweeping. SessionRing (ring.py) is one; this half is not used alone.
# The slot layout is ring.py's alone (its const()s cost nothing on the lookup path there):
# this half reads slots only through SessionRing's helpers (_live_at, _gen_at, _user_is,
# _is_expired, _free, _view) and its fields _n (slots), _size (bytes a slot).
from .session import Store


class RingAdmin(Store):
    @property
    def capacity(self):
        return self._n

    def __len__(self):
        # Live sessions, the expired ones freed on the way (one pass: admin pages count often).
        return self._pass(True)

    def sweep(self):
        # Free every expired slot now. Returns how many.
        return self._pass(False)

    def _pass(self, live):
        # One pass over the slots that frees the expired sessions: how many it freed, or with
        # live True how many stay live.
        now = self.now()
        n = 0
        o = 0
        end = self._n * self._size
        while o < end:
            if self._live_at(o) and self._expire(o, now) is not live:
                n += 1
            o += self._size
        return n

    def _expire(self, o, now):
        # Free the live slot at o if its session has expired. (Split from sweep(), which admin
        # pages call: on MicroPython a frame that outgrows 11 words is allocated on the heap.)
        if self._is_expired(o, now):
            self._free(o)
            self.expired += 1
            return True
        return False

    def stats(self):
        return {
            "capacity": self._n,
            "live": len(self),
            "created": self.created,
            "evicted": self.evicted,
            "expired": self.expired,
            "revoked": self.revoked,
            "rejected": self.rejected,
            "hits": self.hits,
            "misses": self.misses,
            "slot_bytes": self._size,
            "ring_bytes": len(self._buf),
        }

    def revoke_user(self, user, keep=None):
        # End every session of user except `keep` (a token or view). Returns how many ended.
        ub = user.encode() if isinstance(user, str) else bytes(user)
        spare = -1 if keep is None else self._offset(keep)
        n = 0
        for i in range(self._n):
            o = i * self._size
            if self._live_at(o) and o != spare and self._user_is(o, ub):
                self._free(o)
                self.revoked += 1
                n += 1
        return n

    # -- admin listing: public handles, never tokens ------------------------------------------
    def __iter__(self):
        # Views of the live sessions, for an admin list. Their .token is None: use .handle.
        self.sweep()
        for i in range(self._n):
            o = i * self._size
            if self._live_at(o):
                yield self._view(o)

    def by_handle(self, handle):
        # The live session with this public handle ("slot.generation"), or None.
        try:
            i, g = handle.split(".")
            i = int(i)
            g = int(g)
        except (AttributeError, ValueError):
            return None
        if not 0 <= i < self._n:
            return None
        o = i * self._size
        if not self._live_at(o) or self._gen_at(o) != g or self._is_expired(o, self.now()):
            return None
        return self._view(o)
