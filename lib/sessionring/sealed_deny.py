# Revoked: what the sealed store (sealed.py) remembers of sessions that ended before their
# cookies expire, since it keeps nothing per session. Two ways:
# - the deny-list: the 8-byte ids of logged-out sessions, each until its cookies would have
#   expired anyway, in two lanes (browsers' sessions, scripts'), so that scripts never push
#   out a browser's entry; in RAM, and with a deny file on flash (one small file written
#   atomically per logout: docs/sessions.md, flash wear);
# - generations: one number per user (a gen file on flash) that every cookie of the user
#   carries: bumping it ends all of them (log out everywhere, password change, a full lane);
#   a script's session carries the user's script generation too (in the deny file).
# Times are the store's seconds (Unix seconds minus sealed_keys.MIN_UNIX).
import binascii
import json

from micropython import const

from . import flashfile
from . import token as _tok
from .sealed_keys import MIN_UNIX
from .sealed_view import SCRIPT

_SID = const(8)
_HEAD = b"sessionring deny 1\n"


def _whole(data):
    # flashfile.read: a deny file cut short by a power cut is not whole
    return data.startswith(_HEAD) and data.endswith(b"\n")


class Revoked:
    def __init__(self, deny_slots=32, script_slots=16, gen_file=None, deny_file=None):
        # deny_slots, script_slots: entries of each lane; gen_file: where the users'
        # generations are kept, deny_file: the deny-list and script generations (None: RAM
        # only, lost at reboot). ValueError when a file is damaged.
        self.gen_file = gen_file
        self.gens = {}  # user -> generation of the user's sessions
        if gen_file:
            raw = flashfile.read(gen_file)
            if raw is not None:
                try:
                    self.gens = json.loads(raw)
                except ValueError:
                    self.gens = None
                if not isinstance(self.gens, dict):
                    raise ValueError("generation file %s is damaged" % gen_file)
        self.sgens = {}  # user -> generation of the user's script sessions (deny_file)
        self.deny_file = deny_file
        old = self._load(deny_file) if deny_file else ((), ())
        self.nb = max(deny_slots, len(old[0]))  # browsers' lane: entries [0, nb)
        self.n = self.nb + max(script_slots, len(old[1]))  # scripts' lane: [nb, n)
        self._ids = bytearray(self.n * _SID)
        self.until = [0] * self.n  # when each entry may go, store seconds (0: free)
        for lane, base in ((old[0], 0), (old[1], self.nb)):
            for i in range(len(lane)):
                self._put(base + i, lane[i][0], lane[i][1])
        self.ver = 0  # moves on at every deny: views then look at the list again
        self.bumped = 0  # user generation bumps since start
        self.script_bumped = 0
        self.writes = 0  # deny-list writes to flash since start (wear: docs/sessions.md)

    def gen_for(self, user, flags):
        # The generation a cookie of user with these flags must carry: the user's; for a
        # script's session, its low 16 bits and the user's script generation in the high 16.
        g = self.gens.get(user, 0)
        if flags & SCRIPT:
            g = (g & 0xFFFF) | (self.sgens.get(user, 0) & 0xFFFF) << 16
        return g

    def denied(self, b, o, now):
        # Is the session id at b[o:o + 8] on the deny-list (an entry live at now)?
        i = self.n
        while i:
            i -= 1
            if self.until[i] > now and self._is(i, b, o):
                return True
        return False

    def _is(self, i, b, o):
        return _tok.equal(self._ids, i * _SID, b, o, _SID)

    def _put(self, i, sid, until):
        self.until[i] = until
        o = i * _SID
        self._ids[o : o + _SID] = sid

    def end(self, sid, user, flags, until, now):
        # End one session (id sid, of user, with these plaintext flags): its id on its lane
        # until `until` (0: its cookies never expire), else, when the lane is full, a bump of
        # the generation (the user's; a script's session: the user's script one).
        e = self.until
        lo, hi = (self.nb, self.n) if flags & SCRIPT else (0, self.nb)
        if until:
            for i in range(lo, hi):
                if e[i] <= now:
                    self._put(i, sid, until)
                    self.ver += 1
                    self._save(now)
                    return
        if flags & SCRIPT:
            self.sgens[user] = (self.sgens.get(user, 0) + 1) & 0xFFFF
            self.script_bumped += 1
            self._save(now)
        else:
            self.bump(user)

    def bump(self, user):
        # End every session of user: a new generation, on flash with a gen_file.
        self.gens[user] = (self.gens.get(user, 0) + 1) & 0xFFFFFFFF
        self.bumped += 1
        if self.gen_file:
            flashfile.write(self.gen_file, json.dumps(self.gens))

    def expire(self, now):
        # Free the entries whose tokens have expired anyway. (Nothing is written: the deny
        # file drops them at its next write, and they are dead when read.)
        e = self.until
        for i in range(self.n):
            if e[i] and e[i] <= now:
                e[i] = 0

    def stats(self, now, out):
        # The deny-list's and generations' counters into the dict out.
        used = 0
        sused = 0
        for i in range(self.n):
            if self.until[i] > now:
                if i < self.nb:
                    used += 1
                else:
                    sused += 1
        out["deny_used"] = used
        out["deny_slots"] = self.nb
        out["script_deny_used"] = sused
        out["script_deny_slots"] = self.n - self.nb
        out["deny_persistent"] = self.deny_file is not None
        out["users_with_generation"] = len(self.gens)
        out["generation_bumps"] = self.bumped
        out["script_generation_bumps"] = self.script_bumped
        out["deny_writes"] = self.writes
        return out

    def _save(self, now):
        # The deny-list's live entries and the script generations, written atomically.
        if not self.deny_file:
            return
        out = [_HEAD.decode()]
        e = self.until
        for i in range(self.n):
            if e[i] > now:
                o = i * _SID
                sid = binascii.hexlify(self._ids[o : o + _SID]).decode()
                out.append("%s %s %d\n" % ("d" if i < self.nb else "s", sid, e[i] + MIN_UNIX))
        for u, g in self.sgens.items():
            out.append("g %d %s\n" % (g, binascii.hexlify(u.encode()).decode()))
        flashfile.write(self.deny_file, "".join(out))
        self.writes += 1

    def _load(self, path):
        # ([(sid, until)] of browsers, the same of scripts) from the deny file; the script
        # generations into sgens. ValueError when it is damaged.
        raw = flashfile.read(path, 8192, _whole)
        lanes = ([], [])
        if raw is None:
            return lanes
        if not _whole(raw):
            raise ValueError("deny file %s is damaged" % path)
        try:
            for line in raw.decode().split("\n")[1:]:
                if not line:
                    continue
                kind, a, b = line.split(" ")
                if kind == "g":
                    self.sgens[binascii.unhexlify(b).decode()] = int(a) & 0xFFFF
                    continue
                sid = binascii.unhexlify(a)
                if len(sid) != _SID or kind not in ("d", "s"):
                    raise ValueError
                lanes[kind == "s"].append((sid, int(b) - MIN_UNIX))
        except (ValueError, TypeError, UnicodeError):
            raise ValueError("deny file %s is damaged" % path) from None
        return lanes
