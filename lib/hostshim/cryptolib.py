# CPython stand-in for MicroPython's cryptolib, on top of the `cryptography` package.
# Only what sessionring uses: aes(key, mode, iv) with mode 1 (ECB) or 2 (CBC), whose object
# either encrypts or decrypts whole 16-byte blocks (like the board's: asked to do both, it
# raises ValueError).
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODE_ECB = 1
MODE_CBC = 2


class aes:  # noqa: N801 - the board's name
    def __init__(self, key, mode, iv=None):
        if len(key) not in (16, 32):
            raise ValueError("key must be 16 or 32 bytes")
        if mode == MODE_ECB:
            m = modes.ECB()
        elif mode == MODE_CBC:
            if iv is None or len(iv) != 16:
                raise ValueError("CBC needs a 16-byte IV")
            m = modes.CBC(bytes(iv))
        else:
            raise ValueError("mode %r not supported (1 ECB, 2 CBC)" % (mode,))
        self._cipher = Cipher(algorithms.AES(bytes(key)), m)
        self._enc = self._dec = None

    def _run(self, ctx, data, out):
        if len(data) % 16:
            raise ValueError("data must be a multiple of 16 bytes")
        res = ctx.update(bytes(data))
        if out is None:
            return res
        out[: len(res)] = res
        return None

    def encrypt(self, data, out=None):
        if self._dec is not None:
            raise ValueError("can't encrypt & decrypt")
        if self._enc is None:
            self._enc = self._cipher.encryptor()
        return self._run(self._enc, data, out)

    def decrypt(self, data, out=None):
        if self._enc is not None:
            raise ValueError("can't encrypt & decrypt")
        if self._dec is None:
            self._dec = self._cipher.decryptor()
        return self._run(self._dec, data, out)
