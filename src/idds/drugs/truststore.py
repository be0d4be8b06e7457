"""The trust store: the public keys whose drug-library signatures are accepted.

Two sources, nothing else (no environment variable; ref, security: drug libraries pushed to
real pumps without an authenticity check):

1. the project's reference keys shipped in the package, `idds/drugs/data/trusted/*.pub`;
2. the site trust-store file the site administrator controls: `--trust-store FILE`, else
   `/etc/idds/trust-store.toml` when it exists. It lists public key files, relative to its
   own folder:

       # IDDS site trust store: keys whose drug-library signatures this site accepts
       keys = ["hospital-pharmacy.pub", "/etc/idds/keys/regional.pub"]

As ssh does with its key files, the trust-store file, its folder and every key file it names
must be writable by their owner only (not by group or others) and owned by the user or by
root; anything else is refused with one line, so a file another account can edit never adds a
key. `library verify --key PUB` (trust only that key) checks the key file the same way.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from idds.drugs.keys import SignatureError, key_id, load_public_key

#: The site trust-store file read when no `--trust-store` is given (if it exists).
SITE_TRUST_STORE = Path("/etc/idds/trust-store.toml")
#: The most keys a trust-store file may list.
MAX_KEYS = 64


class TrustStoreError(SignatureError):
    """A trust-store file or key file that is unreadable, malformed or not safely owned."""


def check_owner_only(path: Path, what: str) -> None:
    """Refuse `path` if group or others may write it, or it belongs to another user than
    the caller or root (sticky folders such as /tmp excepted for the folder check)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TrustStoreError(f"no such {what}: {path}") from None
    except OSError as exc:
        raise TrustStoreError(f"cannot read {what} {path}: {exc.strerror}") from None
    if info.st_uid not in (0, os.getuid()):
        raise TrustStoreError(f"{what} {path} belongs to user id {info.st_uid}, not to you or "
                              "root: refused")
    sticky_folder = stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky_folder:
        raise TrustStoreError(f"{what} {path} is writable by group or others (mode "
                              f"{stat.S_IMODE(info.st_mode):o}): refused; chmod go-w it")


def trusted_key_file(path: Path) -> Ed25519PublicKey:
    """A public key file that only its owner may change."""
    check_owner_only(path, "key file")
    return load_public_key(path)


def site_key_files(path: Path) -> tuple[Path, ...]:
    """The key files a site trust-store file lists (checked: owner-only, strict TOML)."""
    check_owner_only(path.parent.resolve(), "trust-store folder")
    check_owner_only(path, "trust-store file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustStoreError(f"cannot read trust-store file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrustStoreError(f"trust-store file {path} is not valid TOML: {exc}") from None
    if set(data) - {"keys"}:
        raise TrustStoreError(f"trust-store file {path}: unknown key(s) "
                              f"{sorted(set(data) - {'keys'})[:4]}; only `keys` is allowed")
    listed = data.get("keys", [])
    if not isinstance(listed, list) or not all(isinstance(k, str) and k for k in listed):
        raise TrustStoreError(f"trust-store file {path}: keys must be a list of file names")
    if len(listed) > MAX_KEYS:
        raise TrustStoreError(f"trust-store file {path} lists {len(listed)} keys; at most "
                              f"{MAX_KEYS}")
    return tuple(path.parent / entry for entry in listed)


def shipped_keys() -> dict[str, Ed25519PublicKey]:
    """The reference keys shipped with the package, by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    shipped = resources.files("idds.drugs") / "data" / "trusted"
    for entry in shipped.iterdir():
        if entry.name.endswith(".pub"):
            with resources.as_file(entry) as path:
                key = load_public_key(path)
                keys[key_id(key)] = key
    return keys


@dataclass(frozen=True)
class TrustStore:
    """The public keys whose signatures are accepted, by key id, and where they came from."""

    keys: dict[str, Ed25519PublicKey]
    origin: str = field(default="explicit keys")

    @staticmethod
    def default(site: Path | None = None) -> TrustStore:
        """Shipped reference keys + the site trust-store file: `site` if given (it must
        exist), else `SITE_TRUST_STORE` if it exists."""
        keys = shipped_keys()
        chosen = site if site is not None else SITE_TRUST_STORE
        if site is None and not SITE_TRUST_STORE.exists():
            return TrustStore(keys, f"shipped reference keys; no site file {SITE_TRUST_STORE}")
        for path in site_key_files(chosen):
            key = trusted_key_file(path)
            keys[key_id(key)] = key
        return TrustStore(keys, f"shipped reference keys + site file {chosen}")

    @staticmethod
    def only(*paths: Path) -> TrustStore:
        """Exactly the keys in these files (each checked owner-only)."""
        keys = [trusted_key_file(path) for path in paths]
        return TrustStore({key_id(key): key for key in keys},
                          "only " + ", ".join(str(p) for p in paths))

    def describe(self) -> str:
        """Where this store's keys came from, for a refusal."""
        return self.origin
