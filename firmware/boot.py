# Runs first at power-up: read the board profile and settings, make sure the admin password
# exists, bring the network up (station, else access point). main.py then starts the admin page.
try:
    from admin import start

    start.boot()
except Exception as e:  # noqa: BLE001 - main.py tries again and reports; never stop at boot
    print("sessionring: boot:", repr(e))
