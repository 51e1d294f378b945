from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import SECTION_FIELDS, Country, Innovation, Recognition, Sector, Stage, Tag
from .widgets import LocationPicker


@admin.register(Innovation)
class InnovationAdmin(admin.ModelAdmin):
    list_display = ["title", "country", "level", "year", "status", "updated"]
    list_filter = ["status", "level", "sectors", "stages", "recognitions", "country", "tags"]
    list_select_related = ["country"]
    show_facets = admin.ShowFacets.ALWAYS
    search_fields = ["title", "slug", "short_explanation", "organisation_name"]
    autocomplete_fields = ["country", "sectors", "tags", "recognitions"]
    filter_horizontal = ["stages"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "created"
    readonly_fields = ["created", "updated"]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["title", "slug", "short_explanation", "status"]}),
        (_("Where and who"), {"fields": ["country", "level", "latitude", "longitude"]}),
        (
            _("Organisation"),
            {"fields": ["organisation_name", "organisation_type", "website"]},
        ),
        (
            _("Classification"),
            {"fields": ["sectors", "stages", "year", "recognitions", "tags"]},
        ),
        (_("The case"), {"fields": list(SECTION_FIELDS)}),
        (
            _("Source"),
            {"fields": ["source", "source_url", "is_synthetic", "created", "updated"]},
        ),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "longitude":
            kwargs["widget"] = LocationPicker()
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class VocabularyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


admin.site.register([Sector, Recognition, Tag], VocabularyAdmin)


@admin.register(Stage)
class StageAdmin(VocabularyAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "capital", "latitude", "longitude"]
    search_fields = ["name", "code", "capital"]
