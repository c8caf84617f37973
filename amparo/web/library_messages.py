"""Messages the library words in English that pages show as they are (a failed sign-in, a
field the form left empty). Listed here, in ``N_``, so that ``make messages`` puts them in the
catalogs; templates translate them when shown (``message(error)``). Messages that quote what
someone typed cannot be listed and stay in English. tests/web/test_i18n.py checks that each
message here is still one the library says, word for word.
"""

from __future__ import annotations

from amparo.web.i18n import N_

__all__ = ["MESSAGES"]

MESSAGES = (
    # sign-in (amparo.services.accounts)
    N_("invalid username or password"),
    N_("invalid code"),
    N_("enter the code from your authenticator app"),
    N_("set up an authenticator app to continue"),
    N_("does not match: check the authenticator's clock"),
    N_("is not the current password"),
    # form fields (amparo.domain, amparo.services)
    N_("is required"),
    N_("is required (YYYY, YYYY-MM or YYYY-MM-DD)"),
    N_("is in the future"),
    N_("must be a date written YYYY-MM-DD"),
    N_("must be 1 to 120 characters"),
    N_("must be 1 to 255 characters"),
    N_("is too long (at most 300 characters)"),
    N_("must not contain spaces or control characters"),
    N_("must be an http or https address with a host"),
    N_("links to itself"),
    N_("is not the case of the incident"),
    N_("cannot merge a profile into itself"),
    N_("give a case or an incident"),
    N_("admin tokens are for admin users only"),
)
