# Network bring-up (firmware/admin/net.py) against a stand-in for the `network` module.
from _firmware_modules import Log

from admin import net


class _WLAN:
    def __init__(self, fake, kind):
        self.fake = fake
        self.kind = kind
        self.on = False
        self.conf = {}

    def active(self, on=None):
        if on is not None:
            self.on = on
        return self.on

    def isconnected(self):
        return self.kind == "sta" and self.fake.reachable and self.fake.joined

    def connect(self, ssid, key):
        self.fake.joined = (ssid, key) == self.fake.network

    def disconnect(self):
        self.fake.joined = False

    def config(self, **kw):
        if self.fake.old_keywords and "ssid" in kw:
            raise TypeError("unknown keyword")
        key = kw.get("key", kw.get("password"))
        if key is not None and key in self.fake.refused_keys:
            raise ValueError("the radio refuses this key")  # as a driver does
        self.conf.update(kw)

    def ifconfig(self):
        return ("192.168.4.1" if self.kind == "ap" else "10.0.0.7", "", "", "")


class _Network:
    STA_IF = 0
    AP_IF = 1
    AUTH_WPA2_PSK = 3

    def __init__(self, network=("home", "secret123"), reachable=True, old_keywords=False):
        self.network = network
        self.reachable = reachable
        self.old_keywords = old_keywords
        self.joined = False
        self.made = {}
        self.refused_keys = ()

    def WLAN(self, i):
        kind = "sta" if i == 0 else "ap"
        if kind not in self.made:
            self.made[kind] = _WLAN(self, kind)
        return self.made[kind]


_PROF = {"wifi_mode": "sta_ap", "wifi_connect_s": 0, "ap_ssid": "ring-ap", "http_host": "x"}


def _settings(ssid="home", pw="secret123"):
    return {"wifi_ssid": ssid, "wifi_password": pw, "ap_password": "appass1234"}


def _up(prof, st, fake):
    net.reset()
    return net.up(prof, st, network=fake, log=Log())


def test_station_when_the_network_answers():
    fake = _Network()
    st = _up(_PROF, _settings(), fake)
    assert st["mode"] == "station" and st["ssid"] == "home" and st["ip"] == "10.0.0.7"
    assert "ap" not in fake.made


def test_access_point_when_the_network_does_not_answer():
    fake = _Network(reachable=False)
    st = _up(_PROF, _settings(), fake)
    assert st["mode"] == "access point" and st["ip"] == "192.168.4.1"
    assert fake.made["sta"].on is False  # the station was switched off again
    ap = fake.made["ap"]
    assert ap.on and ap.conf["ssid"] == "ring-ap" and ap.conf["key"] == "appass1234"
    assert ap.conf["security"] == 3


def test_wrong_wifi_password_falls_back_too():
    fake = _Network()
    st = _up(_PROF, _settings(pw="wrongpass"), fake)
    assert st["mode"] == "access point"


def test_access_point_when_no_network_is_configured():
    fake = _Network()
    st = _up(_PROF, _settings(ssid=""), fake)
    assert st["mode"] == "access point"
    assert "sta" not in fake.made


def test_access_point_mode_and_older_keywords():
    fake = _Network(old_keywords=True)
    prof = dict(_PROF)
    prof["wifi_mode"] = "ap"
    st = _up(prof, _settings(), fake)
    assert st["mode"] == "access point"
    assert fake.made["ap"].conf["essid"] == "ring-ap"
    assert fake.made["ap"].conf["password"] == "appass1234"
    assert "sta" not in fake.made


def test_mode_none_and_once_only():
    fake = _Network()
    prof = dict(_PROF)
    prof["wifi_mode"] = "none"
    st = _up(prof, _settings(), fake)
    assert st["mode"] == "none" and fake.made == {}
    st2 = net.up(_PROF, _settings(), network=fake, log=Log())
    assert st2["mode"] == "none"  # already up: not brought up twice


def test_no_network_module_on_a_host():
    net.reset()
    st = net.up(_PROF, _settings(), log=Log())
    assert st["mode"] == "host" and st["ip"] == "x"
    net.reset()


def test_hostname_where_the_port_has_one():
    fake = _Network()
    st = _up(_PROF, _settings(), fake)
    assert st["hostname"] == ""  # no network.hostname(): no name
    fake.hostname = lambda: "ring-1"
    st = _up(_PROF, _settings(), fake)
    assert st["hostname"] == "ring-1" and st["mode"] == "station"
    net.reset()
    assert net.STATE["hostname"] == ""


def test_an_ap_password_wpa2_refuses_brings_the_ap_up_with_a_recovery_password():
    # a password the radio would refuse (saved by an older firmware, or edited on flash):
    # the access point still comes up, with a random password printed on the console
    for bad in ("\u00e9" * 40, "short", "x" * 64):
        fake = _Network(reachable=False)
        st = dict(_settings(), ap_password=bad)
        net.reset()
        log = Log()
        state = net.up(_PROF, st, network=fake, log=log)
        ap = fake.made["ap"]
        assert state["mode"] == "access point" and ap.on and state["recovery"]
        pw = ap.conf["key"]
        assert pw != bad and len(pw) == 12
        assert "recovery password" in log.text() and pw in log.text()


def test_an_ap_password_the_radio_refuses_falls_back_too():
    fake = _Network(reachable=False)
    fake.refused_keys = ("appass1234",)
    net.reset()
    log = Log()
    state = net.up(_PROF, _settings(), network=fake, log=log)
    assert state["mode"] == "access point" and state["recovery"]
    assert fake.made["ap"].on and fake.made["ap"].conf["key"] not in ("appass1234", None)
    assert "refused its password" in log.text()


def test_a_good_ap_password_is_used_as_saved():
    fake = _Network(reachable=False)
    state = _up(_PROF, _settings(), fake)
    assert not state["recovery"] and fake.made["ap"].conf["key"] == "appass1234"


def test_a_station_the_radio_refuses_falls_back_to_the_ap():
    class Refusing(_Network):
        def WLAN(self, i):
            w = _Network.WLAN(self, i)
            if i == 0:

                def connect(ssid, key):
                    raise OSError("bad ssid")

                w.connect = connect
            return w

    fake = Refusing()
    state = _up(_PROF, _settings(), fake)
    assert state["mode"] == "access point" and fake.made["ap"].on
