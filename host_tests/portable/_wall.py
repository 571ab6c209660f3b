# Fake wall clocks for portable tests: Wall (time(), gmtime()) and TicksWall (a ticks clock
# that is also a wall clock). Apart from _support so that tests that need no wall clock do not
# compile it: on the qemu images every helper is compiled from source into the small heap.
from _support import FakeClock

T0 = 1800000000  # 2027-01-15, Unix seconds: the fake wall clocks' start


class Wall:
    # A wall clock like the time module's (time(), gmtime()), moved by the test (advance(s), or
    # set t): time() counts from the port's epoch, 1970 or 2000 (ESP32).
    def __init__(self, unix=T0, epoch=1970):
        self.epoch = epoch
        self.off = 946684800 if epoch == 2000 else 0
        self.t = unix - self.off

    def time(self):
        return int(self.t)

    def gmtime(self, secs=0):
        return (self.epoch, 1, 1, 0, 0, 0, 5 if self.epoch == 2000 else 3, 1)

    def advance(self, s):
        self.t += s


class TicksWall(FakeClock):
    # A ticks clock that is also a wall clock: advance(ms) moves both.
    def __init__(self, unix=T0):
        super().__init__()
        self.wall = Wall(unix)

    def advance(self, ms):
        super().advance(ms)
        self.wall.t += ms / 1000

    def time(self):
        return self.wall.time()

    def gmtime(self, secs=0):
        return self.wall.gmtime()
