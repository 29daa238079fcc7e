#!/bin/sh
test -f config/.keep && echo "ok - config directory present"
