"""The Editors group: staff who add, correct and publish cases and manage vocabularies."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = {
    "innovation": ["add", "change", "delete", "view"],
    "country": ["add", "change", "view"],
    "sector": ["add", "change", "delete", "view"],
    "stage": ["change", "view"],
    "recognition": ["add", "change", "delete", "view"],
    "tag": ["add", "change", "delete", "view"],
}


def create_editors_group(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make sure
    # this app's exist now so that the group can be given them.
    app_config = apps.get_app_config("innovations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Editors")
    codenames = [
        f"{action}_{model}" for model, actions in EDITOR_PERMISSIONS.items() for action in actions
    ]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="innovations", codename__in=codenames)
    )


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("innovations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors_group, remove_editors_group)]
