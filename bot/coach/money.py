"""What a remedy or a WOW idea costs, said in the owner's language and the operator's currency (Babel)."""
from __future__ import annotations

from babel.numbers import format_currency

from bot.coach.context import Context
from bot.knowledge import Remedy, WowIdea

from bot.report_sections import LOCALES


def money(ctx: Context, amount: int) -> str:
    return format_currency(amount, ctx.currency, locale=LOCALES.get(ctx.lang, "en_GB"), format="¤#,##0", currency_digits=False)


def cost_text(ctx: Context, entry: Remedy | WowIdea) -> str:
    low, high = entry.cost
    per = ctx.t(f"cost.per.{entry.per}")
    if high == 0:
        amount = ctx.t("cost.free")
    elif low == high:
        amount = ctx.t("cost.about", amount=money(ctx, high), per=per)
    elif low == 0:
        amount = ctx.t("cost.up_to", amount=money(ctx, high), per=per)
    else:
        amount = ctx.t("cost.between", low=money(ctx, low), high=money(ctx, high), per=per)
    return ctx.t("cost.line", amount=amount.strip(), time=entry.time)
