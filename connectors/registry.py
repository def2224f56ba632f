"""Which normaliser reads which platform, and reading whole files as delivered."""
from __future__ import annotations

from archiefstroom.connectors import bluesky, exports, linkedin, mastodon, meta, x, youtube
from archiefstroom.connectors.base import Body, Context, NormaliseError, check_event, split_bodies

NORMALISERS = {
    "mastodon": mastodon.normalise,
    "x": x.normalise,
    "facebook": meta.normalise,
    "instagram": meta.normalise,
    "youtube": youtube.normalise,
    "bluesky": bluesky.normalise,
    "linkedin": linkedin.normalise,
}
PLATFORMS = tuple(NORMALISERS)


def normalise_body(platform: str, body: Body, ctx: Context) -> list[dict]:
    if platform == "facebook" and (isinstance(body.doc, list) and body.doc and isinstance(body.doc[0], dict)
                                   and "timestamp" in body.doc[0] or isinstance(body.doc, dict)
                                   and "comments_v2" in body.doc):
        return exports.facebook_export(body, ctx)
    return NORMALISERS[platform](body, ctx)


def normalise_text(platform: str, text: str, ctx: Context, *, check: bool = True) -> list[dict]:
    """All canonical events in one delivered payload file (JSON, SSE, JSON lines, X archive .js)."""
    if platform not in NORMALISERS:
        raise NormaliseError(f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
    if platform == "x" and exports.is_x_archive(text):
        events = exports.x_archive(text, ctx)
    else:
        events = []
        for body in split_bodies(text):
            events.extend(normalise_body(platform, body, ctx))
    if check:
        for ev in events:
            check_event(ev)
    return events
