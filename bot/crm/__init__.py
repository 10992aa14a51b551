"""The CRMs' side: what a webhook carries and how it is verified (hubspot), and reading closed
deals back through the CRM's API (hubspot_api). Turned into bot.domain.crm types for the use
cases (bot.usecases.crm)."""
