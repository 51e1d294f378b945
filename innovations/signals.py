"""Keep each case's stored search vector current when it or the names it cites change."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import Country, Innovation, Sector, Tag


@receiver(post_save, sender=Innovation)
def case_saved(sender, instance, raw=False, **kwargs):
    Innovation.objects.filter(pk=instance.pk).refresh_search_vectors()


@receiver(m2m_changed, sender=Innovation.tags.through)
@receiver(m2m_changed, sender=Innovation.sectors.through)
def terms_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if reverse:  # a term's cases changed: instance is the term
        cases = Innovation.objects.filter(pk__in=pk_set) if pk_set else instance.innovations.all()
    else:
        cases = Innovation.objects.filter(pk=instance.pk)
    cases.refresh_search_vectors()


@receiver(post_save, sender=Country)
@receiver(post_save, sender=Sector)
@receiver(post_save, sender=Tag)
def name_saved(sender, instance, created, raw=False, **kwargs):
    if not created and not raw:
        instance.innovations.all().refresh_search_vectors()


@receiver(pre_delete, sender=Sector)
@receiver(pre_delete, sender=Tag)
def term_deleting(sender, instance, **kwargs):
    # Deleting a term removes its links without m2m signals: remember its cases.
    instance.case_ids = list(instance.innovations.values_list("pk", flat=True))


@receiver(post_delete, sender=Sector)
@receiver(post_delete, sender=Tag)
def term_deleted(sender, instance, **kwargs):
    Innovation.objects.filter(pk__in=instance.case_ids).refresh_search_vectors()
