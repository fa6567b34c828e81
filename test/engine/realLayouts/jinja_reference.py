"""Renders chat templates the way transformers' apply_chat_template does, as the reference for
@huggingface/jinja: Jinja2's sandbox with trim_blocks and lstrip_blocks, the loopcontrols extension,
transformers' own tojson filter (no HTML escaping, indent/separators/sort_keys exposed) and its
raise_exception and strftime_now (the clock's date, as transformers gives it) globals.

stdin: {"template": str, "cases": [context, ...]}. stdout: the rendered strings, in order, as a JSON
list.
"""

import json
import sys
from datetime import datetime

import jinja2.ext
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise TemplateError(message)


def strftime_now(format):
    return datetime.now().strftime(format)


def main():
    request = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(request["template"])
    json.dump([template.render(**context) for context in request["cases"]], sys.stdout)


if __name__ == "__main__":
    main()
