# The device admin app: board profile, settings on flash, password setup, network bring-up,
# pages and routes. firmware/main.py starts it with admin.main.run().
