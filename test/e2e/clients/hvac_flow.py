"""Drives Keyward with Debian's python3-hvac (HashiCorp's Python Vault client), unmodified.

Reads VAULT_ADDR, VAULT_TOKEN and VAULT_CACERT; prints one JSON object with what each call
returned, for test/e2e/hvac-python.test.ts to assert on. Never prints the token.
"""
import base64
import json
import os
import sys

import hvac

addr = os.environ["VAULT_ADDR"]
ca = os.environ["VAULT_CACERT"]
root = hvac.Client(url=addr, token=os.environ["VAULT_TOKEN"], verify=ca)
out = {"authenticated": root.is_authenticated()}

b64 = lambda s: base64.b64encode(s.encode()).decode()

# Transit: create, encrypt, rotate, list (LIST verb), decrypt, rewrap, data key, batch.
root.secrets.transit.create_key(name="py-orders")
enc = root.secrets.transit.encrypt_data(name="py-orders", plaintext=b64("hello from python"))
out["ciphertext_prefix"] = enc["data"]["ciphertext"][:9]
root.secrets.transit.rotate_key(name="py-orders")
out["latest_version"] = root.secrets.transit.read_key(name="py-orders")["data"]["latest_version"]
out["listed_keys"] = root.secrets.transit.list_keys()["data"]["keys"]
dec = root.secrets.transit.decrypt_data(name="py-orders", ciphertext=enc["data"]["ciphertext"])
out["decrypted"] = base64.b64decode(dec["data"]["plaintext"]).decode()
rew = root.secrets.transit.rewrap_data(name="py-orders", ciphertext=enc["data"]["ciphertext"])
out["rewrapped_prefix"] = rew["data"]["ciphertext"][:9]
dk = root.secrets.transit.generate_data_key(name="py-orders", key_type="plaintext", bits=256)
out["datakey_bytes"] = len(base64.b64decode(dk["data"]["plaintext"]))
batch = root.secrets.transit.encrypt_data(name="py-orders", plaintext=None, batch_input=[{"plaintext": b64("a")}, {"plaintext": b64("b")}])
out["batch_count"] = len(batch["data"]["batch_results"])

# KV v2: write, read, versions, list.
root.secrets.kv.v2.create_or_update_secret(path="py/app", secret={"user": "svc", "password": "s3cret-py"})
root.secrets.kv.v2.create_or_update_secret(path="py/app", secret={"user": "svc", "password": "s3cret-py-2"})
read = root.secrets.kv.v2.read_secret_version(path="py/app")
out["kv_version"] = read["data"]["metadata"]["version"]
out["kv_password"] = read["data"]["data"]["password"]
out["kv_list"] = root.secrets.kv.v2.list_secrets(path="py")["data"]["keys"]

# Policies and AppRole: a narrow service logs in and gets exactly its grant.
root.sys.create_or_update_policy(name="py-svc", policy='path "transit/encrypt/py-orders" { capabilities = ["update"] }')
root.auth.approle.create_or_update_approle(role_name="py-svc", token_policies=["py-svc"], token_ttl="10m")
role_id = root.auth.approle.read_role_id(role_name="py-svc")["data"]["role_id"]
secret_id = root.auth.approle.generate_secret_id(role_name="py-svc")["data"]["secret_id"]
svc = hvac.Client(url=addr, verify=ca)
login = svc.auth.approle.login(role_id=role_id, secret_id=secret_id)
out["login_policies"] = sorted(login["auth"]["policies"])
out["svc_encrypt_ok"] = svc.secrets.transit.encrypt_data(name="py-orders", plaintext=b64("x"))["data"]["ciphertext"][:6]
try:
    svc.secrets.transit.decrypt_data(name="py-orders", ciphertext=enc["data"]["ciphertext"])
    out["svc_decrypt"] = "allowed"
except hvac.exceptions.Forbidden as e:
    out["svc_decrypt"] = "forbidden"

# Errors map to hvac's exception classes by status code.
try:
    root.secrets.transit.decrypt_data(name="py-orders", ciphertext="vault:v1:AAAA")
except hvac.exceptions.InvalidRequest as e:
    out["tampered_error"] = json.loads(str(e).split(", on ")[0])["errors"]

json.dump(out, sys.stdout)
