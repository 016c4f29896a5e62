"""OSMO storage URLs on Argo: artifact locations, rclone remotes, and what the profile says about them.

The profile's ``storage`` entries (or, without one, the convention: a Secret
``osmo-data-<scheme>``) give the endpoint and credentials of a URL. :func:`check_url`
reports what that lookup decides -- a convention assumed (P610, once per scheme) or a
``swift://`` URL with no S3-compatible endpoint (U410) -- at the URL's source path.
The shape of a URL (scheme, container) is a document rule (``checks/storage.py``).
"""

from __future__ import annotations

from ..diagnostics import JsonPath
from ..osmo import split_url
from ..profile import Profile, Storage
from .emitter import Emitter

SECRET_KEYS = {
    "s3": ("accessKey", "secretKey"),
    "tos": ("accessKey", "secretKey"),
    "swift": ("accessKey", "secretKey"),
    "gs": ("serviceAccountKey",),
    "azure": ("accountKey",),
}


def check_url(em: Emitter, url: str, where: JsonPath, *, checkpoint: bool = False) -> None:
    """Report what the profile's storage lookup decides for ``url`` (canonical tokens, not yet translated).

    ``checkpoint``: the URL is uploaded by rclone (:func:`rclone_env`), not by Argo, whose S3 client finds a
    bucket's region itself; rclone signs for the region it is given, ``us-east-1`` without one (P612)."""
    if "{{" in url.split("://", 1)[0] or "://" not in url:
        return  # a token in the scheme is resolved at run time
    scheme = split_url(url)[0]
    if scheme not in SECRET_KEYS:
        return  # http(s) needs no storage entry
    store = em.profile.storage(url)
    if scheme == "swift" and (store.assumed or not store.endpoint):
        em.report(
            "U410",
            "swift:// has no Argo artifact driver",
            where,
            hint="map it to an S3-compatible endpoint of your Swift cluster: a storage entry with prefix "
            '"swift://<account>" and an endpoint in the profile',
        )
    elif store.assumed:
        endpoint = f", endpoint {store.endpoint}" if store.endpoint else ""
        keys = "/".join(SECRET_KEYS[scheme])
        em.assume(
            "storage",
            scheme,
            f'{scheme}:// data is accessed with the Kubernetes Secret "{store.secret}" (keys {keys}{endpoint})',
            where,
            hint="add a storage entry for this URL prefix to the profile",
        )
    if checkpoint and scheme == "s3" and not store.region and (store.assumed or not store.endpoint):
        em.report(
            "P612",
            "this checkpoint bucket's region is not known: rclone signs its uploads for us-east-1, and AWS "
            "refuses them for a bucket in another region",
            where,
            hint=f'give the profile\'s storage entry for "{url}" a region (runtime-audit #24)',
        )


def _secret_ref(secret: str, key: str) -> dict:
    return {"name": secret, "key": key}


def pod_identity(store: Storage) -> bool:
    """Whether ``store`` is reached with the pod's own cloud identity: no Secret named (runtime-audit-2 N3).

    Kubernetes refuses a pod with ``secretKeyRef: {name: null}``, so credentials are emitted only where a Secret
    is named; otherwise Argo's drivers use the SDK's default chain (``useSDKCreds``; GCS: no key = default
    credentials, ``workflow/artifacts/artifacts.go`` :248-262) and rclone ``env_auth`` (v1.68: s3, gcs, azureblob).
    """
    return store.use_sdk_creds or not store.secret


def artifact_location(url: str, profile: Profile, *, prefix: bool = False) -> dict:
    """The Argo artifact location for an OSMO storage URL (tokens already translated).

    ``prefix``: an input URL written with a trailing ``/`` (a folder). The Azure driver lists blobs by the
    raw key, so ``path/data`` would also pull ``path/data2/...`` (runtime-audit #14): its blob keeps the
    ``/``. (The S3 driver adds it itself; the GCS driver cleans it away before listing, so gs:// inputs are not
    Argo artifacts but fetched by rclone, ``fetch.py``; a ``gcs`` location is still what a gs:// output is.)
    """
    scheme, bucket, key = split_url(url)
    if scheme in ("http", "https"):
        return {"http": {"url": url}}
    store = profile.storage(url)
    folder = "/" if prefix and url.endswith("/") else ""
    identity = pod_identity(store)
    if scheme == "gs":
        gcs: dict = {"bucket": bucket, "key": key}
        if not identity:  # the driver uses the default credentials (workload identity) without a key
            gcs["serviceAccountKeySecret"] = _secret_ref(store.secret or "", "serviceAccountKey")
        return {"gcs": gcs}
    if scheme == "azure":  # azure://<account>/<container>/<blob>
        container, _, blob = key.partition("/")
        blob += folder if blob else ""
        azure: dict = {
            "endpoint": store.endpoint or f"https://{bucket}.blob.core.windows.net",
            "container": container,
            "blob": blob,
        }
        if identity:
            azure["useSDKCreds"] = True
        else:
            azure["accountKeySecret"] = _secret_ref(store.secret or "", "accountKey")
        return {"azure": azure}
    if scheme == "swift":  # swift://<account>/<container>/<path>, through an S3-compatible endpoint
        bucket, _, key = key.partition("/")
    s3: dict = {"endpoint": store.endpoint, "bucket": bucket, "key": key}
    if store.region:
        s3["region"] = store.region
    if store.insecure:
        s3["insecure"] = True
    if identity:
        s3["useSDKCreds"] = True
    else:
        s3["accessKeySecret"] = _secret_ref(store.secret or "", "accessKey")
        s3["secretKeySecret"] = _secret_ref(store.secret or "", "secretKey")
    return {"s3": s3}


def rclone_env(url: str, profile: Profile) -> tuple[list[dict], str]:
    """Environment that configures rclone remote ``osmo`` for ``url``, and the remote path."""
    scheme, bucket, key = split_url(url)
    store = profile.storage(url)
    env: list[dict] = []

    def plain(name: str, value: str) -> None:
        env.append({"name": f"RCLONE_CONFIG_OSMO_{name}", "value": value})

    identity = pod_identity(store)

    def secret(name: str, secret_key: str) -> None:
        if identity:  # no Secret named: the pod's own identity (rclone env_auth), never secretKeyRef {name: null}
            return
        ref = _secret_ref(store.secret or "", secret_key)
        env.append({"name": f"RCLONE_CONFIG_OSMO_{name}", "valueFrom": {"secretKeyRef": ref}})

    if scheme == "gs":
        plain("TYPE", "google cloud storage")
        secret("SERVICE_ACCOUNT_CREDENTIALS", "serviceAccountKey")
        if identity:
            plain("ENV_AUTH", "true")
        return env, f"osmo:{bucket}/{key}"
    if scheme == "azure":
        container, _, blob = key.partition("/")
        plain("TYPE", "azureblob")
        plain("ACCOUNT", bucket)
        secret("KEY", "accountKey")
        if identity:
            plain("ENV_AUTH", "true")
        return env, f"osmo:{container}/{blob}"
    if scheme == "swift":
        bucket, _, key = key.partition("/")
    plain("TYPE", "s3")
    plain("PROVIDER", "AWS" if scheme == "s3" and (store.assumed or not store.endpoint) else "Other")
    if store.endpoint:
        plain("ENDPOINT", ("http://" if store.insecure else "https://") + store.endpoint)
    if store.region:
        plain("REGION", store.region)
    if identity:
        plain("ENV_AUTH", "true")
    secret("ACCESS_KEY_ID", "accessKey")
    secret("SECRET_ACCESS_KEY", "secretKey")
    return env, f"osmo:{bucket}/{key}"
