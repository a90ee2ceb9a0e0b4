# Firmata rig (src/rig/firmata*.ts, test/firmata/): the prebuilt StandardFirmata image from the
# npm package avrgirl-arduino@5.0.1, checked by sha256 and cached in hardware/firmata/.cache/
# (gitignored). socat and the AVR simulator come with 20-avr.sh and npm ci.
node hardware/firmata/fetch-standard-firmata.mjs >/dev/null || return 1
