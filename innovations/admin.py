from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.middleware.csp import get_nonce
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .forms import CaseAdminForm, ReturnForm
from .models import SECTION_FIELDS, Country, Innovation, Recognition, Sector, Stage, Tag
from .widgets import LocationPicker

# The workflow's actions are offered in the list and on each case's page.
BOTH_PLACES = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


@admin.register(Innovation)
class InnovationAdmin(admin.ModelAdmin):
    form = CaseAdminForm
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
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "short_explanation",
                    "language",
                    "status",
                    "seen_version",
                ]
            },
        ),
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
    actions = ["publish", "return_for_changes", "archive", "submit_for_review"]

    # The review workflow. The status of a stored case is read-only in the form: it
    # changes only through the actions, which follow Innovation.TRANSITIONS and log
    # every move.

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["status", "submitted_by", "status_history"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Review"), {"fields": ["submitted_by", "status_history"]})]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            # A new case starts as a draft and may go where a draft may go.
            draft = Innovation(status=Innovation.Status.DRAFT)
            allowed = [draft.status, *draft.next_statuses(request.user)]
            kwargs["choices"] = [c for c in Innovation.Status.choices if c[0] in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        status, obj.status = obj.status, Innovation.Status.DRAFT
        super().save_model(request, obj, form, change)
        if status != obj.status:
            obj.transition(status, by=request.user, note=_("Added in the admin."))

    def get_ordering(self, request):
        if request.GET.get("status__exact") == Innovation.Status.SUBMITTED:
            return ["created", "pk"]  # the review queue: oldest first
        return super().get_ordering(request)

    def has_delete_permission(self, request, obj=None):
        """Published cases are archived, never deleted."""
        if obj is not None and obj.status == Innovation.Status.PUBLISHED:
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        """What is public changes only by an editor's decision: staff who may change
        cases but not publish them may read a published case, not edit it."""
        if (
            obj is not None
            and obj.status == Innovation.Status.PUBLISHED
            and not self.has_publish_permission(request)
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_publish_permission(self, request):
        return request.user.has_perm("innovations.publish_innovation")

    @admin.display(description=_("submitted by"))
    def submitted_by(self, obj):
        submission = getattr(obj, "submission", None)
        if submission is None:
            return _("Not submitted through the public form.")
        return format_html(
            '{} &lt;<a href="mailto:{}">{}</a>&gt;, {}',
            submission.name,
            submission.email,
            submission.email,
            submission.created.strftime("%Y-%m-%d %H:%M"),
        )

    @admin.display(description=_("status history"))
    def status_history(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    change.at.strftime("%Y-%m-%d %H:%M"),
                    change.by or _("the site"),
                    change.get_from_status_display() or "–",
                    change.get_to_status_display(),
                    change.note,
                )
                for change in obj.status_changes.select_related("by")
            ),
        )
        if not rows:
            return _("No changes recorded.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("When"),
            _("Who"),
            _("From"),
            _("To"),
            _("Note"),
            rows,
        )

    def move(self, request, queryset, status, note=""):
        """Move each case to `status` where the workflow allows it, and say what happened."""
        moved, left = 0, []
        for case in queryset:
            try:
                case.transition(status, by=request.user, note=note)
                moved += 1
            except (ValidationError, PermissionDenied):
                left.append(case)
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d case is now “%(status)s”.",
                    "%(count)d cases are now “%(status)s”.",
                    moved,
                )
                % {"count": moved, "status": status.label},
                messages.SUCCESS,
            )
        if left:
            self.message_user(
                request,
                _("Left as they were (the workflow does not allow this move): %(cases)s.")
                % {"cases": ", ".join(f"{case} ({case.get_status_display()})" for case in left)},
                messages.WARNING,
            )

    @admin.action(description=_("Publish"), permissions=["publish"], location=BOTH_PLACES)
    def publish(self, request, queryset):
        self.move(request, queryset, Innovation.Status.PUBLISHED)

    @admin.action(
        description=_("Return for changes, with a message…"),
        permissions=["publish"],
        location=BOTH_PLACES,
    )
    def return_for_changes(self, request, queryset):
        form = ReturnForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self.move(request, queryset, Innovation.Status.RETURNED, form.cleaned_data["message"])
            return None
        # Ask for the message, then send the same action back with it.
        repost = [
            (name, value)
            for name, values in request.POST.lists()
            if name in {helpers.ACTION_CHECKBOX_NAME, "index"}
            or name.rsplit("-", 1)[-1] in {"action", "select_across"}
            for value in values
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Return for changes"),
            "opts": self.opts,
            "cases": queryset,
            "form": form,
            "repost": repost,
        }
        return TemplateResponse(request, "admin/innovations/return_for_changes.html", context)

    @admin.action(description=_("Archive"), permissions=["publish"], location=BOTH_PLACES)
    def archive(self, request, queryset):
        self.move(request, queryset, Innovation.Status.ARCHIVED)

    @admin.action(description=_("Submit for review"), permissions=["change"], location=BOTH_PLACES)
    def submit_for_review(self, request, queryset):
        self.move(request, queryset, Innovation.Status.SUBMITTED)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "longitude":
            kwargs["widget"] = LocationPicker(csp_nonce=get_nonce(request))
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
