"""Pages generated from the spec besides the table reference: the recipes and the README list.

`render_recipes` writes `docs/recipes.md` from the provider's recipes; `readme_tables` renders
the README's "Tables" list, which `splice_readme` puts between its markers, so neither goes
stale when a resource or recipe is added (`sqlprovider docs build`, checked in CI with
`--check`). Imports `spec.model` only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlprovider.spec.model import Provider, Resource

BANNER = "<!-- Generated from provider_spec/ by `sqlprovider docs build`; do not edit by hand. -->"
README_START = "<!-- tables:start (generated from provider_spec/ by `sqlprovider docs build`) -->"
README_END = "<!-- tables:end -->"


def render_recipes(providers: Iterable[Provider]) -> str:
    """`docs/recipes.md`: every recipe with its question, answer shape, parameters and SQL."""
    lines = [
        BANNER,
        "",
        "# Compliance recipes",
        "",
        "Backup questions people ask about a DigitalOcean account, each answered by one SQL "
        "statement over the API tables. Every recipe runs in CI against the seeded sandbox and "
        "must return at least one row. Parameters are bound by name (`:days`), never pasted "
        "into the SQL; their defaults are shown.",
        "",
        "- List them: `sqlprovider recipes`; show one: `sqlprovider recipes NAME`; run one: "
        "`sqlprovider recipes NAME --run [--param days=30]` (with `--sandbox` to try it "
        "offline; the sandbox then keeps the real clock).",
        "- From SQL: `SELECT name, title, sql FROM sqlprovider_recipes`.",
        "- Add one: a new entry in `provider_spec/<provider>/recipes/*.yaml` (no Python), then "
        "`sqlprovider docs build`.",
    ]
    for provider in providers:
        lines += ["", "| Recipe | Question |", "|---|---|"]
        lines += [f"| [`{r.name}`](#{r.name}) | {r.question} |" for r in provider.recipes]
        for recipe in provider.recipes:
            lines += ["", f"## {recipe.name}", "", f"**{recipe.title}.** {recipe.question}", ""]
            lines.append(f"Answer: {recipe.shape}.")
            if recipe.parameters:
                lines += ["", "| Parameter | Default | Meaning |", "|---|---|---|"]
                lines += [
                    f"| `:{p.name}` | `{p.default}` | {p.description} |" for p in recipe.parameters
                ]
            lines += ["", "```sql", _wrap(recipe.sql), "```"]
    return "\n".join(lines) + "\n"


def readme_tables(providers: Iterable[Provider]) -> str:
    """The README's table list: each table, what it holds, and what it needs in WHERE or ON."""
    lines = [
        README_START,
        "| table | what it holds | needs in WHERE or ON |",
        "|---|---|---|",
    ]
    for provider in providers:
        for resource in provider.resources():
            lines.append(
                f"| `{resource.qualified_name}` | {_first_sentence(resource.description)} | "
                f"{_needs(resource)} |"
            )
    return "\n".join([*lines, README_END])


def splice_readme(readme: str, block: str) -> str:
    """`readme` with the text between the table markers replaced by `block`.

    Raises:
        ValueError: the README lacks the markers (say where the list goes).
    """
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(
            f"README.md has no table markers: put {README_START!r} and {README_END!r} "
            "where the list of tables goes"
        )
    return readme[:start] + block + readme[end + len(README_END) :]


def _needs(resource: Resource) -> str:
    required = resource.required_parameters
    optional = [p.name for p in resource.parameters if p.role is None and p.name not in required]
    text = ", ".join(f"`{name}`" for name in required) if required else "nothing"
    if optional:
        text += " (" + ", ".join(f"`{name}`" for name in optional) + " optional)"
    return text


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence.replace("|", "\\|")


def _wrap(sql: str) -> str:
    """Break a one-line statement before its main clauses, for reading."""
    for keyword in (
        " FROM ",
        " JOIN ",
        " LEFT JOIN ",
        " WHERE ",
        " GROUP BY ",
        " HAVING ",
        " ORDER BY ",
        " SELECT ",
    ):
        sql = sql.replace(keyword, "\n" + keyword.strip() + " ")
    return sql.replace("\nLEFT \nJOIN", "\nLEFT JOIN").strip()
