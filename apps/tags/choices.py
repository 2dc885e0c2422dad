from django.db import models


class TagCategory(models.TextChoices):
    SKILL = "skill", "Skill"
    CERTIFICATION = "certification", "Certification"
    LANGUAGE = "language", "Language"
    OTHER = "other", "Other"


class TagAction(models.TextChoices):
    ADD = "add", "Add"
    CHANGE = "change", "Change"
    REMOVE = "remove", "Remove"


class TagTarget(models.TextChoices):
    EMPLOYEE = "employee", "Employee tag"
    POSITION = "position", "Position tag"
