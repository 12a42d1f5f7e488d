"""The one place that loads and renders Jinja templates from prompts/.

Templates render with StrictUndefined: a missing variable is an error, never a blank in a reply.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .errors import TemplateError

_PACKAGE = Path(__file__).resolve().parent


def prompts_dir() -> Path:
    """Inside an installed wheel prompts/ sits in the package; in a checkout, beside it."""
    for candidate in (_PACKAGE / "prompts", _PACKAGE.parent / "prompts"):
        if (candidate / "guidelines.md.j2").is_file():
            return candidate
    raise TemplateError(f"The prompts folder is missing (looked in {_PACKAGE} and its parent).")


class Prompts:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or prompts_dir()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.folder)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text replies and prompts, never HTML
            keep_trailing_newline=False,
            # Newlines after tags are kept so paragraphs survive; callers fold extra blank lines.
            trim_blocks=False,
            lstrip_blocks=True,
            # Compiled once per process: no stat() of every template on every render, and the
            # prompts a draft records (`version`, hashed once) are the ones it was rendered from.
            auto_reload=False,
        )

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"The template {name} is missing from {self.folder}.") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"The template {exc.name or name} line {exc.lineno}: {exc.message}."
            ) from None

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def first(self, *names: str) -> str:
        """The first of `names` that exists: a business's own template, then the general one."""
        for name in names:
            if self.has(name):
                return name
        raise TemplateError(f"None of the templates {', '.join(names)} is in {self.folder}.")

    def render(self, template: str, /, **variables: Any) -> str:
        try:
            return self._template(template).render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"The template {template} needs a value nobody gave it: {exc.message}."
            ) from None

    def exports(self, template: str, /, **variables: Any) -> dict[str, str]:
        """The `{% set %}` values a template defines (a playbook's title and meta-goal)."""
        return self.render_with_exports(template, **variables)[1]

    def render_with_exports(self, template: str, /, **variables: Any) -> tuple[str, dict[str, str]]:
        """The rendered text and its `{% set %}` values, from one rendering."""
        try:
            module = self._template(template).make_module(variables)
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"The template {template} needs a value nobody gave it: {exc.message}."
            ) from None
        exported = {k: str(v).strip() for k, v in module.__dict__.items() if not k.startswith("_")}
        return str(module).strip(), exported

    def render_text(self, source: str, /, **variables: Any) -> str:
        """A template the company wrote (a saved reply in its knowledge folder), rendered in
        Jinja's sandbox: it may name the customer's facts, never reach into Python."""
        try:
            return _sandbox().from_string(source).render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"The saved reply needs a value nobody gave it: {exc.message}."
            ) from None
        except (jinja2.TemplateSyntaxError, SecurityError) as exc:
            raise TemplateError(f"The saved reply is not a valid template: {exc}.") from None

    @property
    def version(self) -> str:
        return _folder_version(self.folder)


@cache
def _folder_version(folder: Path) -> str:
    """A short hash of every template: recorded with each draft so a reply can be traced to its prompts."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.j2")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def _sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


@cache
def default_prompts() -> Prompts:
    return Prompts()


@cache
def html_templates() -> jinja2.Environment:
    """The HTML pages and reports (assistant/templates), escaped: customer text is data."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_PACKAGE / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )
