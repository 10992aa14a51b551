"""Amounts in the workspace's currency (ISO 4217): "£60,000" where the currency has a symbol
people read at a glance, "60,000 SEK" where it has none, "60,000" while no currency is set."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Amounts are kept exact to the cent in a column of 14 digits, 2 of them after the point
# (storage.models.Money, Numeric(14, 2)): 12 before it, so below 10^12. A bigger figure is
# refused by PostgreSQL ("numeric field overflow"), and would fail the whole write it is in.
MAX_AMOUNT = Decimal(10) ** 12
CENT = Decimal("0.01")

# Active ISO 4217 alphabetic codes (the standard's list of current currencies and funds).
ISO_4217_CODES = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

# Symbols written before the amount; only those a reader takes for one currency.
SYMBOLS: dict[str, str] = {
    "GBP": "£",
    "EUR": "€",
    "USD": "$",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "NGN": "₦",
}


def currency_code(text: str | None) -> str | None:
    """The ISO 4217 code `text` names (any case, spaces around), else None."""
    code = (text or "").strip().upper()
    return code if code in ISO_4217_CODES else None


def crm_amount(raw: object) -> Decimal | None:
    """A deal's amount as a CRM sent it (HubSpot's property, Salesforce's Amount field), to the
    cent; None when there is none, it isn't a number, it is negative (a deal's value never is:
    a figure like that is a data-entry slip, not what was lost), or it is too big to keep
    (MAX_AMOUNT). The deal is offered all the same, without an amount: one odd figure never
    loses a deal, nor the batch it came in."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        return None
    # Rounded to the cent before the last check: 999,999,999,999.999 rounds up to 10^12.
    cents = amount.quantize(CENT)
    return cents if cents < MAX_AMOUNT else None


def format_money(amount: float, currency: str | None = None) -> str:
    """ "£60,000", "60,000.50 SEK", or "60,000" without a currency; a negative amount's sign
    goes before the symbol, as it is written: "-£5,000"."""
    size = abs(float(amount))
    number = f"{size:,.0f}" if size.is_integer() else f"{size:,.2f}"
    # No "-£0.00" for a tiny negative that rounds to nothing.
    sign = "-" if amount < 0 and number.strip("0.,") else ""
    if not currency:
        return f"{sign}{number}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
