"""What certificates adds to the case page (registered by ``certificates.wiring.init_app``
through ``households.providers``)."""
from __future__ import annotations

from typing import Any

from heating.auth import permissions
from heating.certificates import services as certificates
from heating.certificates.forms import RevokeForm
from heating.households import lifecycle
from heating.households.models import Household


def paperwork(hh: Household, current_user: Any, context: lifecycle.Context) -> dict[str, Any]:
    """The case's certificates, with the revoke form and download for those who may."""
    certs = certificates.certificates_of(hh)
    # revoking is the revoke move (or uphold on an objected case): any the roles allow
    moves = {t.action for t in lifecycle.allowed_for(hh.state,
                                                     permissions.roles_over(current_user, hh))}
    return {
        "certificates": certs,
        "may_revoke": {c.id: permissions.may_revoke_certificate(current_user, c.revoked, hh, moves)
                       for c in certs},
        "may_download": permissions.can(current_user, "certificate.download", hh),
        "revoke_form": RevokeForm(),
    }
