#!/bin/sh
# A unit check: the front page exists.
test -f public/index.html && echo "ok - front page exists"
