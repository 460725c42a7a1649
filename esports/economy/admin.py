from django.contrib import admin

from esports.economy.models import DeltaCrownTransaction, DeltaCrownWallet


@admin.register(DeltaCrownWallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__username"]


@admin.register(DeltaCrownTransaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ["wallet", "amount", "reason", "tournament", "created_at"]
    list_filter = ["reason"]
    raw_id_fields = ["wallet", "tournament"]
