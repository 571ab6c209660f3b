# Network bring-up, as a router or access point does it: join the configured Wi-Fi as a
# station; if there is none, or it does not answer in time, become an access point of our own.
# Profile "wifi_mode": "sta_ap" (that), "ap" (always an access point) or "none". On a port
# without the `network` module (the unix port, CPython) there is nothing to bring up: the host's
# own network is used and the state says so.
import time

import micropython  # noqa: F401 - on CPython the host shim's import adds time.ticks_*

from .settings import random_word, wpa_ok

STATE = {"mode": "off", "ssid": "", "ip": "", "hostname": "", "recovery": False}


def _status(mode, ssid, ip):
    STATE["mode"] = mode
    STATE["ssid"] = ssid
    STATE["ip"] = ip
    return STATE


def _ip(wlan):
    try:
        return wlan.ifconfig()[0]
    except (AttributeError, OSError):
        return ""


def _hostname(network):
    # The name the device answers to on the LAN (DHCP, and mDNS as NAME.local), where the
    # port tells it (network.hostname(), MicroPython >= 1.20); else "".
    try:
        n = network.hostname()
    except (AttributeError, OSError, TypeError):
        return ""
    return n if isinstance(n, str) else ""


def _station(network, ssid, password, wait_s, log):
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    if sta.isconnected():
        return sta
    log("sessionring: joining Wi-Fi %s" % ssid)
    sta.connect(ssid, password)
    deadline = time.ticks_add(time.ticks_ms(), wait_s * 1000)
    while not sta.isconnected():
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            log("sessionring: Wi-Fi %s did not answer in %d s" % (ssid, wait_s))
            sta.disconnect()
            sta.active(False)
            return None
        time.sleep_ms(100)
    return sta


def _access_point(network, ssid, password):
    # Configure, then activate (the order MicroPython's esp32 and rp2 docs use). WPA2 with the
    # password; the constant's name differs between ports and versions.
    ap = network.WLAN(network.AP_IF)
    try:
        ap.config(ssid=ssid, key=password)  # MicroPython >= 1.20 on esp32 and rp2
    except (TypeError, ValueError, OSError):
        ap.config(essid=ssid, password=password)
    sec = getattr(network, "AUTH_WPA2_PSK", None)
    if sec is None:
        sec = getattr(getattr(network, "WLAN", None), "SEC_WPA2", None)
    if sec is not None:
        for kw in ("security", "authmode"):
            try:
                ap.config(**{kw: sec})
                break
            except (TypeError, ValueError, OSError):
                pass
    ap.active(True)
    return ap


def up(profile, settings, network=None, log=print):
    # Bring the network up once; later calls return the same state. `network` may be injected
    # (tests); by default the port's own module, if it has one.
    if STATE["mode"] != "off":
        return STATE
    mode = profile["wifi_mode"]
    if network is None:
        try:
            import network
        except ImportError:
            return _status("host", "", profile["http_host"])
    STATE["hostname"] = _hostname(network)
    if mode == "none":
        return _status("none", "", "")
    ssid = settings["wifi_ssid"]
    if mode == "sta_ap" and ssid:
        try:
            sta = _station(
                network, ssid, settings["wifi_password"], profile["wifi_connect_s"], log
            )
        except (OSError, ValueError, TypeError) as e:  # a value the radio refuses
            log("sessionring: Wi-Fi %s refused: %r" % (ssid, e))
            sta = None
        if sta is not None:
            return _status("station", ssid, _ip(sta))
    # The way back in never depends on a value someone typed: the access point's name is the
    # profile's, and when the saved password is not one WPA2 takes or the radio will not start
    # with it, the access point comes up with a new random password for this boot, printed on
    # the console like every access point password (docs/admin.md: getting back in).
    ap_ssid = profile["ap_ssid"]
    pw = settings["ap_password"]
    ap = _try_access_point(network, ap_ssid, pw, log) if wpa_ok(pw) else None
    if ap is None:
        pw = random_word(12)
        log("sessionring: the saved access point password failed: a recovery password for now")
        ap = _access_point(network, ap_ssid, pw)
    STATE["recovery"] = pw != settings["ap_password"]
    log("sessionring: access point %s, password %s" % (ap_ssid, pw))
    return _status("access point", ap_ssid, _ip(ap))


def _try_access_point(network, ssid, password, log):
    # The access point up with password, or None (logged) when the radio refuses it.
    try:
        ap = _access_point(network, ssid, password)
        if ap.active():
            return ap
    except (OSError, ValueError, TypeError) as e:
        log("sessionring: access point refused its password: %r" % (e,))
        return None
    log("sessionring: access point did not start")
    return None


def sync_clock(log=print):
    # Set the wall clock from NTP where the port has ntptime (in station mode): the sealed
    # session store needs the right time. False when it could not (no ntptime, no answer).
    try:
        import ntptime

        ntptime.settime()
    except (ImportError, OSError, OverflowError, IndexError) as e:
        log("sessionring: clock not set from NTP: %r" % (e,))
        return False
    log("sessionring: clock set from NTP")
    return True


def reset():
    # Forget the state (tests; or before bringing the network up again)
    _status("off", "", "")
    STATE["hostname"] = ""
    STATE["recovery"] = False
