/*
 * workcell station firmware for an ATmega328P at 16 MHz (Arduino Uno / Nano wiring).
 *
 * One stepper axis (STEP/DIR/ENABLE, acceleration-limited moves, position counter), a
 * quadrature encoder that counts real belt motion, a home switch and homing routine, and up to
 * 12 general digital inputs/outputs with safe values. The e-stop input and the host-loss
 * watchdog act here, in the firmware, before anything is reported to the controller.
 *
 * Protocol: docs/station-protocol.md. Wiring: docs/hardware.md. The protocol constants below
 * must match src/serial/protocol.ts.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>
#include <string.h>
#include <util/atomic.h>
#include <util/crc16.h>
#include <util/delay.h>

#define FW_MAJOR 1
#define FW_MINOR 1
#define PROTOCOL_VERSION 2 /* 2: per-input debounce in the PROVISION body */

#define TICK_HZ 10000UL          /* motion tick (Timer1 compare A, clock/64) */
#define TICKS_PER_MS (TICK_HZ / 1000UL)
#define Q 24                     /* velocities in 1/2^24 step per tick */
#define ONE_STEP (1UL << Q)
#define MAX_SPEED_STEPS_S 9000UL /* at most one step pulse per tick */
#define TELEMETRY_PERIOD_MS 20
#define TELEMETRY_MIN_GAP_MS 4

/* ---- messages (src/serial/protocol.ts MSG) ---- */
enum {
  MSG_HEARTBEAT = 0x01, MSG_QUERY = 0x02, MSG_MOVE = 0x10, MSG_HOME = 0x11, MSG_STOP = 0x12,
  MSG_SET_OUTPUTS = 0x13, MSG_SAFE = 0x14, MSG_CLEAR = 0x15, MSG_PROVISION = 0x20,
  MSG_BOOT = 0x80, MSG_ACK = 0x81, MSG_TELEMETRY = 0x82
};
enum {
  ACK_OK = 0, ACK_BAD_LENGTH = 1, ACK_UNKNOWN = 2, ACK_BUSY = 3, ACK_LATCHED = 4, ACK_STALE_EPOCH = 5,
  ACK_ESTOP = 6, ACK_NOT_PROVISIONED = 7, ACK_BAD_ARG = 8
};
enum { AXIS_IDLE = 0, AXIS_MOVING = 1, AXIS_HOMING = 2, AXIS_STOPPING = 3 };
enum { RESULT_NONE = 0, RESULT_RUNNING = 1, RESULT_DONE = 2, RESULT_STOPPED = 3, RESULT_FAILED = 4 };
#define F_HOMED 0x0001
#define F_ESTOP_OPEN 0x0002
#define F_ESTOP_LATCHED 0x0004
#define F_WATCHDOG_TRIPPED 0x0008
#define F_SAFE_LATCHED 0x0010
#define F_HOME_FAILED 0x0020
#define F_PROVISIONED 0x0040
#define F_DRIVE_ENABLED 0x0080
#define NO_PIN 0xFF

/* ---- fixed axis wiring on port D ---- */
#define ENC_A PD2   /* INT0 */
#define ENC_B PD3   /* INT1 */
#define STEP_BIT PD4
#define DIR_BIT PD5
#define ENABLE_BIT PD6 /* active low, as on A4988 / DRV8825 drivers */
#define HOME_BIT PD7

/* ---- provisioning, stored in EEPROM ---- */
typedef struct {
  uint8_t station_id;
  uint16_t watchdog_ms;
  uint8_t hash[32];
  uint32_t input_mask, output_mask, safe_high_mask, safe_hold_mask;
  uint8_t estop_pin, estop_healthy_level, home_active_level, stop_category;
  uint32_t stop_decel;
  uint16_t debounce_ms[12]; /* general pins 8..19: a new input level must hold this long */
} __attribute__((packed)) config_t;
#define PROVISION_BODY_BYTES 83
#define EEPROM_MAGIC 0x5744 /* "WD": layout 2 (with debounce); a layout-1 record reads as unprovisioned */
typedef struct {
  uint16_t magic;
  config_t config;
  uint16_t crc;
} __attribute__((packed)) stored_t;
_Static_assert(sizeof(config_t) == PROVISION_BODY_BYTES, "config layout must match the PROVISION body");

static config_t config;
static uint8_t provisioned;
static uint8_t reset_cause;
static uint32_t general_pins_mask; /* pins 8..19 */

/* ---- input debounce (sampled every millisecond in the tick) ---- */
static uint32_t debounce_mask;           /* inputs with a debounce time */
static volatile uint32_t debounced;      /* their accepted levels */
static uint16_t bounce_ms[12];           /* how long each has differed from its accepted level */

/* ---- motion state, shared with the tick interrupt ---- */
static volatile int32_t position;
static volatile int32_t encoder;
static volatile uint8_t axis_state = AXIS_IDLE;
static volatile uint8_t motion_result = RESULT_NONE;
static volatile uint8_t motion_seq;
static volatile uint16_t flags;
static volatile uint32_t millis;
static uint32_t v, vmax, vmin, accel, decel, phase, accel_steps;
static int32_t remaining;
static int8_t direction;
static uint8_t ramp_done, disable_when_stopped, stop_result;
static uint8_t tick_in_ms;

/* ---- link state ---- */
static uint32_t epoch;
static uint8_t last_seq, last_type, last_status;
static uint32_t last_valid_frame_ms;
static uint16_t crc_errors, framing_errors, stale_epoch_frames, accepted_frames;

/* ================================================================================= pins == */

static volatile uint8_t *pin_port(uint8_t pin) { return pin < 14 ? &PORTB : &PORTC; }
static volatile uint8_t *pin_ddr(uint8_t pin) { return pin < 14 ? &DDRB : &DDRC; }
static volatile uint8_t *pin_in(uint8_t pin) { return pin < 14 ? &PINB : &PINC; }
static uint8_t pin_bit(uint8_t pin) { return (uint8_t)(1 << (pin < 14 ? pin - 8 : pin - 14)); }
static uint8_t is_general(uint8_t pin) { return pin >= 8 && pin <= 19; }

static void pin_write(uint8_t pin, uint8_t level) {
  if (!is_general(pin)) return;
  if (level) *pin_port(pin) |= pin_bit(pin);
  else *pin_port(pin) &= (uint8_t)~pin_bit(pin);
}

static uint8_t pin_read(uint8_t pin) {
  if (pin == HOME_BIT) return (PIND >> HOME_BIT) & 1;
  if (!is_general(pin)) return 0;
  return (*pin_in(pin) & pin_bit(pin)) ? 1 : 0;
}

static uint32_t read_raw_levels(void) {
  uint32_t levels = ((uint32_t)(PINB & 0x3F) << 8) | ((uint32_t)(PINC & 0x3F) << 14);
  levels |= (uint32_t)(PIND & 0xFC);
  return levels;
}

/* What the board reports: raw levels, except debounced inputs at their accepted level. */
static uint32_t read_levels(void) {
  uint32_t accepted;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { accepted = debounced; }
  return (read_raw_levels() & ~debounce_mask) | (accepted & debounce_mask);
}

/* Called every millisecond from the tick: a level is accepted once it has held debounce_ms. */
static void debounce_inputs(void) {
  if (!debounce_mask) return;
  uint32_t differ = (read_raw_levels() ^ debounced) & debounce_mask;
  for (uint8_t i = 0; i < 12; i++) {
    uint32_t bit = 1UL << (i + 8);
    if (!(debounce_mask & bit)) continue;
    if (!(differ & bit)) {
      bounce_ms[i] = 0;
    } else if (++bounce_ms[i] >= config.debounce_ms[i]) {
      debounced ^= bit;
      bounce_ms[i] = 0;
    }
  }
}

/* Debounce starts from the present levels (boot, provisioning). Interrupts off. */
static void debounce_reset(void) {
  debounce_mask = 0;
  for (uint8_t i = 0; i < 12; i++) {
    bounce_ms[i] = 0;
    /* The e-stop contact is never debounced: it is reported as the tick reads it. */
    if (provisioned && (config.input_mask & (1UL << (i + 8))) && config.debounce_ms[i] > 0 && config.estop_pin != i + 8) debounce_mask |= 1UL << (i + 8);
  }
  debounced = read_raw_levels();
}

static uint32_t output_levels(void) {
  uint32_t levels = ((uint32_t)(PORTB & 0x3F) << 8) | ((uint32_t)(PORTC & 0x3F) << 14);
  return levels & config.output_mask;
}

static void drive_enable(uint8_t on) {
  if (on) {
    PORTD &= (uint8_t)~(1 << ENABLE_BIT);
    flags |= F_DRIVE_ENABLED;
  } else {
    PORTD |= (1 << ENABLE_BIT);
    flags &= (uint16_t)~(F_DRIVE_ENABLED | F_HOMED); /* an unpowered axis may be moved by hand */
  }
}

/* Every output to its safe level: high, low, or held where it is (a vacuum holding a part). */
static void outputs_safe(void) {
  for (uint8_t pin = 8; pin <= 19; pin++) {
    uint32_t bit = 1UL << pin;
    if (!(config.output_mask & bit) || (config.safe_hold_mask & bit)) continue;
    pin_write(pin, (config.safe_high_mask & bit) ? 1 : 0);
  }
}

static void apply_pin_config(void) {
  /* Port D: STEP, DIR, ENABLE outputs; encoder and home inputs without pull-ups. */
  PORTD |= (1 << ENABLE_BIT);
  DDRD |= (1 << STEP_BIT) | (1 << DIR_BIT) | (1 << ENABLE_BIT);
  DDRD &= (uint8_t)~((1 << ENC_A) | (1 << ENC_B) | (1 << HOME_BIT));
  PORTD &= (uint8_t)~((1 << ENC_A) | (1 << ENC_B) | (1 << HOME_BIT) | (1 << STEP_BIT));
  for (uint8_t pin = 8; pin <= 19; pin++) {
    uint32_t bit = 1UL << pin;
    if (provisioned && (config.output_mask & bit)) {
      pin_write(pin, (config.safe_high_mask & bit) ? 1 : 0);
      *pin_ddr(pin) |= pin_bit(pin);
    } else {
      *pin_ddr(pin) &= (uint8_t)~pin_bit(pin);
      pin_write(pin, 0); /* no pull-up: an unwired input must not read as "healthy" */
    }
  }
}

/* ============================================================================== motion == */

static uint32_t q24_speed(uint32_t steps_s) { return (uint32_t)(((uint64_t)steps_s << Q) / TICK_HZ); }
static uint32_t q24_accel(uint32_t steps_s2) {
  uint32_t a = (uint32_t)(((uint64_t)steps_s2 << Q) / (TICK_HZ * TICK_HZ));
  return a == 0 ? 1 : a;
}

/* Called with interrupts off (from the tick or an ATOMIC_BLOCK). */
static void end_motion(uint8_t result) {
  v = 0;
  phase = 0;
  axis_state = AXIS_IDLE;
  motion_result = result;
  if (disable_when_stopped) {
    drive_enable(0);
    disable_when_stopped = 0;
  }
}

/* The safe reaction of e-stop and watchdog: axis stopped (category from provisioning), outputs safe. */
static void safe_stop(uint8_t category) {
  outputs_safe();
  if (axis_state == AXIS_IDLE) {
    drive_enable(0);
    return;
  }
  if (category == 0) {
    disable_when_stopped = 1;
    end_motion(RESULT_STOPPED);
  } else {
    decel = q24_accel(config.stop_decel);
    disable_when_stopped = 1;
    stop_result = RESULT_STOPPED;
    axis_state = AXIS_STOPPING;
  }
}

static uint8_t estop_open(void) {
  if (!provisioned || config.estop_pin == NO_PIN) return 0;
  return pin_read(config.estop_pin) != config.estop_healthy_level;
}

/* One STEP pulse, 2 us wide (A4988 and DRV8825 need at least 1 us). */
static void do_step(void) {
  PORTD |= (1 << STEP_BIT);
  _delay_us(2);
  PORTD &= (uint8_t)~(1 << STEP_BIT);
  position += direction;
  if (axis_state == AXIS_MOVING) {
    if (--remaining <= 0) end_motion(RESULT_DONE);
    else if (!ramp_done) accel_steps++;
  } else if (axis_state == AXIS_HOMING) {
    if (--remaining <= 0) {
      flags |= F_HOME_FAILED;
      end_motion(RESULT_FAILED);
    }
  }
}

ISR(TIMER1_COMPA_vect) {
  if (++tick_in_ms >= TICKS_PER_MS) {
    tick_in_ms = 0;
    millis++;
    debounce_inputs();
  }
  /* The e-stop chain is read every tick, ahead of everything else, raw: never debounced, a
   * contact that opens for a single tick trips the safe state. */
  if (estop_open()) {
    flags |= F_ESTOP_OPEN;
    if (!(flags & F_ESTOP_LATCHED)) {
      flags |= F_ESTOP_LATCHED | F_SAFE_LATCHED;
      safe_stop(config.stop_category);
    }
  } else {
    flags &= (uint16_t)~F_ESTOP_OPEN;
  }
  switch (axis_state) {
  case AXIS_IDLE:
    return;
  case AXIS_HOMING:
    if (pin_read(HOME_BIT) == config.home_active_level) {
      position = 0;
      encoder = 0;
      flags |= F_HOMED;
      end_motion(RESULT_DONE);
      return;
    }
    break;
  case AXIS_STOPPING:
    if (v > decel) v -= decel;
    else {
      end_motion(stop_result);
      return;
    }
    break;
  case AXIS_MOVING:
    if ((uint32_t)remaining <= accel_steps) {
      ramp_done = 1;
      v = (v > accel + vmin) ? v - accel : vmin;
    } else if (v < vmax) {
      v += accel;
      if (v >= vmax) {
        v = vmax;
        ramp_done = 1;
      }
    }
    break;
  }
  phase += v;
  if (phase >= ONE_STEP) {
    phase -= ONE_STEP;
    do_step();
  }
}

/* x4 quadrature decoding: A leads B when the belt moves downstream. */
ISR(INT0_vect) {
  uint8_t p = PIND;
  if (((p >> ENC_A) & 1) != ((p >> ENC_B) & 1)) encoder++;
  else encoder--;
}
ISR(INT1_vect) {
  uint8_t p = PIND;
  if (((p >> ENC_A) & 1) == ((p >> ENC_B) & 1)) encoder++;
  else encoder--;
}

/* ================================================================================ UART == */

static volatile uint8_t rx_buf[128];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t tx_buf[256];
static volatile uint8_t tx_head, tx_tail;

ISR(USART_RX_vect) {
  uint8_t byte = UDR0;
  uint8_t next = (uint8_t)((rx_head + 1) & 127);
  if (next != rx_tail) {
    rx_buf[rx_head] = byte;
    rx_head = next;
  } else {
    framing_errors++; /* overrun: the frame this byte belonged to is lost */
  }
}

ISR(USART_UDRE_vect) {
  if (tx_head == tx_tail) {
    UCSR0B &= (uint8_t)~(1 << UDRIE0);
    return;
  }
  UDR0 = tx_buf[tx_tail];
  tx_tail = (uint8_t)(tx_tail + 1);
}

static uint8_t tx_free(void) { return (uint8_t)(tx_tail - tx_head - 1); }

static void tx_put(uint8_t byte) {
  tx_buf[tx_head] = byte;
  tx_head = (uint8_t)(tx_head + 1);
}

static void uart_init(void) {
  UCSR0A = (1 << U2X0);
  UBRR0 = 16; /* 115200 baud at 16 MHz with U2X (2.1 % error) */
  UCSR0C = (1 << UCSZ01) | (1 << UCSZ00);
  UCSR0B = (1 << RXEN0) | (1 << TXEN0) | (1 << RXCIE0);
}

/* Frames out: COBS-encode header + body + CRC. Droppable frames (telemetry) are skipped when the
 * transmit buffer is full; the others wait for room. */
static void send_frame(uint8_t type, uint8_t seq, const uint8_t *body, uint8_t len, uint8_t droppable) {
  uint8_t raw[96];
  uint8_t n = 0;
  raw[n++] = type;
  raw[n++] = seq;
  memcpy(&raw[n], &epoch, 4);
  n += 4;
  memcpy(&raw[n], body, len);
  n += len;
  uint16_t crc = 0xFFFF;
  for (uint8_t i = 0; i < n; i++) crc = _crc_xmodem_update(crc, raw[i]);
  raw[n++] = (uint8_t)crc;
  raw[n++] = (uint8_t)(crc >> 8);
  uint8_t need = (uint8_t)(n + 3);
  if (droppable && tx_free() < need) return;
  while (tx_free() < need) {
  }
  uint8_t out[100];
  uint8_t code_at = 0, code = 1, o = 1;
  for (uint8_t i = 0; i < n; i++) {
    if (raw[i] == 0) {
      out[code_at] = code;
      code_at = o++;
      code = 1;
    } else {
      out[o++] = raw[i];
      code++;
    }
  }
  out[code_at] = code;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    for (uint8_t i = 0; i < o; i++) tx_put(out[i]);
    tx_put(0);
    UCSR0B |= (1 << UDRIE0);
  }
}

static void put32(uint8_t *p, uint32_t x) { memcpy(p, &x, 4); }
static void put16(uint8_t *p, uint16_t x) { memcpy(p, &x, 2); }
static uint32_t get32(const uint8_t *p) {
  uint32_t x;
  memcpy(&x, p, 4);
  return x;
}

/* solicited: an answer to QUERY (or PROVISION), not the frame sent at power-up. */
static void send_boot(uint8_t solicited) {
  uint8_t b[40];
  b[0] = FW_MAJOR;
  b[1] = FW_MINOR;
  b[2] = PROTOCOL_VERSION;
  b[3] = provisioned ? config.station_id : 0;
  b[4] = reset_cause;
  b[5] = (uint8_t)(provisioned | (solicited << 1));
  put16(&b[6], provisioned ? config.watchdog_ms : 0);
  if (provisioned) memcpy(&b[8], config.hash, 32);
  else memset(&b[8], 0, 32);
  send_frame(MSG_BOOT, 0, b, sizeof b, 0);
}

static uint32_t last_telemetry_ms;
static uint32_t last_levels;
static uint16_t last_flags;
static uint8_t last_axis_state, last_result;

static void send_telemetry(void) {
  uint8_t b[29];
  int32_t pos, enc;
  uint8_t state, result, seq;
  uint16_t f;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    pos = position;
    enc = encoder;
    state = axis_state;
    result = motion_result;
    seq = motion_seq;
    f = flags;
  }
  uint32_t levels = read_levels();
  put32(&b[0], (uint32_t)pos);
  put32(&b[4], (uint32_t)enc);
  put32(&b[8], levels);
  put32(&b[12], output_levels());
  b[16] = state;
  put16(&b[17], f);
  b[19] = seq;
  b[20] = result;
  put16(&b[21], crc_errors);
  put16(&b[23], framing_errors);
  put16(&b[25], stale_epoch_frames);
  put16(&b[27], accepted_frames);
  send_frame(MSG_TELEMETRY, 0, b, sizeof b, 1);
  last_telemetry_ms = millis;
  last_levels = levels;
  last_flags = f;
  last_axis_state = state;
  last_result = result;
}

static void send_ack(uint8_t seq, uint8_t status) {
  uint8_t b[2] = {seq, status};
  send_frame(MSG_ACK, 0, b, 2, 0);
}

/* ============================================================================ commands == */

static void load_config(void) {
  stored_t stored;
  eeprom_read_block(&stored, (const void *)0, sizeof stored);
  uint16_t crc = 0xFFFF;
  const uint8_t *p = (const uint8_t *)&stored.config;
  for (uint8_t i = 0; i < sizeof(config_t); i++) crc = _crc_xmodem_update(crc, p[i]);
  provisioned = stored.magic == EEPROM_MAGIC && stored.crc == crc;
  if (provisioned) {
    memcpy(&config, &stored.config, sizeof config);
    config.input_mask &= general_pins_mask;
    config.output_mask &= general_pins_mask & ~config.input_mask;
    flags |= F_PROVISIONED;
  } else {
    memset(&config, 0, sizeof config);
    config.estop_pin = NO_PIN;
    config.watchdog_ms = 250;
    config.stop_decel = 1;
    flags &= (uint16_t)~F_PROVISIONED;
  }
}

static uint8_t cmd_provision(const uint8_t *body, uint8_t len) {
  if (len != PROVISION_BODY_BYTES) return ACK_BAD_LENGTH;
  if (axis_state != AXIS_IDLE) return ACK_BUSY;
  stored_t stored;
  stored.magic = EEPROM_MAGIC;
  memcpy(&stored.config, body, sizeof(config_t));
  if (stored.config.station_id == 0 || stored.config.station_id == 0xFF || stored.config.watchdog_ms == 0) return ACK_BAD_ARG;
  if (stored.config.estop_pin != NO_PIN && !is_general(stored.config.estop_pin)) return ACK_BAD_ARG;
  uint16_t crc = 0xFFFF;
  for (uint8_t i = 0; i < sizeof(config_t); i++) crc = _crc_xmodem_update(crc, body[i]);
  stored.crc = crc;
  eeprom_update_block(&stored, (void *)0, sizeof stored);
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    drive_enable(0);
    load_config();
    apply_pin_config();
    debounce_reset();
  }
  return ACK_OK;
}

/* Motion and outputs need a provisioned board, a closed e-stop chain and no latch. */
static uint8_t may_act(void) {
  if (!provisioned) return ACK_NOT_PROVISIONED;
  if (flags & F_ESTOP_OPEN) return ACK_ESTOP;
  if (flags & F_SAFE_LATCHED) return ACK_LATCHED;
  return ACK_OK;
}

static uint8_t cmd_move(uint8_t seq, const uint8_t *body, uint8_t len) {
  if (len != 12) return ACK_BAD_LENGTH;
  uint8_t refusal = may_act();
  if (refusal) return refusal;
  if (axis_state != AXIS_IDLE) return ACK_BUSY;
  int32_t steps = (int32_t)get32(body);
  uint32_t speed = get32(body + 4), acc = get32(body + 8);
  if (speed == 0 || speed > MAX_SPEED_STEPS_S || acc == 0) return ACK_BAD_ARG;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    motion_seq = seq;
    if (steps == 0) {
      motion_result = RESULT_DONE;
    } else {
      direction = steps > 0 ? 1 : -1;
      if (steps > 0) PORTD |= (1 << DIR_BIT);
      else PORTD &= (uint8_t)~(1 << DIR_BIT);
      remaining = steps > 0 ? steps : -steps;
      vmax = q24_speed(speed);
      accel = q24_accel(acc);
      vmin = q24_speed(speed < 50 ? speed : 50);
      v = 0;
      phase = 0;
      accel_steps = 0;
      ramp_done = 0;
      drive_enable(1);
      motion_result = RESULT_RUNNING;
      axis_state = AXIS_MOVING;
    }
  }
  return ACK_OK;
}

static uint8_t cmd_home(uint8_t seq, const uint8_t *body, uint8_t len) {
  if (len != 9) return ACK_BAD_LENGTH;
  uint8_t refusal = may_act();
  if (refusal) return refusal;
  if (axis_state != AXIS_IDLE) return ACK_BUSY;
  uint32_t speed = get32(body);
  int8_t dir = (int8_t)body[4];
  uint32_t travel = get32(body + 5);
  if (speed == 0 || speed > MAX_SPEED_STEPS_S || (dir != 1 && dir != -1) || travel == 0 || travel > 0x7FFFFFFFUL) return ACK_BAD_ARG;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    motion_seq = seq;
    flags &= (uint16_t)~(F_HOMED | F_HOME_FAILED);
    direction = dir;
    if (dir > 0) PORTD |= (1 << DIR_BIT);
    else PORTD &= (uint8_t)~(1 << DIR_BIT);
    remaining = (int32_t)travel;
    v = q24_speed(speed);
    phase = 0;
    drive_enable(1);
    motion_result = RESULT_RUNNING;
    axis_state = AXIS_HOMING;
  }
  return ACK_OK;
}

static uint8_t cmd_stop(void) {
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    if (axis_state == AXIS_MOVING || axis_state == AXIS_HOMING) {
      decel = accel > 0 && axis_state == AXIS_MOVING ? accel : q24_accel(config.stop_decel);
      stop_result = RESULT_STOPPED;
      axis_state = AXIS_STOPPING;
    }
  }
  return ACK_OK;
}

static uint8_t cmd_set_outputs(const uint8_t *body, uint8_t len) {
  if (len != 8) return ACK_BAD_LENGTH;
  uint8_t refusal = may_act();
  if (refusal) return refusal;
  uint32_t mask = get32(body), levels = get32(body + 4);
  if (mask & ~config.output_mask) return ACK_BAD_ARG;
  for (uint8_t pin = 8; pin <= 19; pin++)
    if (mask & (1UL << pin)) pin_write(pin, (levels >> pin) & 1);
  return ACK_OK;
}

static uint8_t cmd_safe(const uint8_t *body, uint8_t len) {
  if (len != 1 || body[0] > 1) return len != 1 ? ACK_BAD_LENGTH : ACK_BAD_ARG;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    flags |= F_SAFE_LATCHED;
    safe_stop(body[0]);
  }
  return ACK_OK;
}

static uint8_t cmd_clear(void) {
  if (flags & F_ESTOP_OPEN) return ACK_ESTOP;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    flags &= (uint16_t)~(F_ESTOP_LATCHED | F_WATCHDOG_TRIPPED | F_SAFE_LATCHED | F_HOME_FAILED);
  }
  return ACK_OK;
}

static void handle_frame(const uint8_t *raw, uint8_t n) {
  if (n < 8) {
    framing_errors++;
    return;
  }
  uint16_t crc = 0xFFFF;
  for (uint8_t i = 0; i < n - 2; i++) crc = _crc_xmodem_update(crc, raw[i]);
  if (crc != (uint16_t)(raw[n - 2] | (raw[n - 1] << 8))) {
    crc_errors++;
    return;
  }
  uint8_t type = raw[0], seq = raw[1];
  uint32_t frame_epoch = get32(raw + 2);
  const uint8_t *body = raw + 6;
  uint8_t len = (uint8_t)(n - 8);
  /* Fencing: a frame from an older controller is refused and does not feed the watchdog. */
  if (frame_epoch < epoch) {
    stale_epoch_frames++;
    /* Tell an older controller it is fenced off: every sequenced command, and QUERY (how it starts). */
    if (seq != 0 || type == MSG_QUERY) send_ack(seq, ACK_STALE_EPOCH);
    return;
  }
  if (frame_epoch > epoch) {
    epoch = frame_epoch;
    last_seq = 0;
  }
  accepted_frames++;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { last_valid_frame_ms = millis; }
  if (seq != 0 && seq == last_seq && type == last_type) {
    send_ack(seq, last_status); /* a retransmission: answer again, do not act twice */
    return;
  }
  uint8_t status;
  switch (type) {
  case MSG_HEARTBEAT:
    return;
  case MSG_QUERY:
    last_seq = 0; /* a QUERY opens a session: its sequence numbers start afresh */
    send_boot(1);
    send_telemetry();
    return;
  case MSG_MOVE: status = cmd_move(seq, body, len); break;
  case MSG_HOME: status = cmd_home(seq, body, len); break;
  case MSG_STOP: status = cmd_stop(); break;
  case MSG_SET_OUTPUTS: status = cmd_set_outputs(body, len); break;
  case MSG_SAFE: status = cmd_safe(body, len); break;
  case MSG_CLEAR: status = cmd_clear(); break;
  case MSG_PROVISION: status = cmd_provision(body, len); break;
  default: status = ACK_UNKNOWN; break;
  }
  if (seq != 0) {
    last_seq = seq;
    last_type = type;
    last_status = status;
    send_ack(seq, status);
  }
  if (type == MSG_PROVISION && status == ACK_OK) send_boot(1);
  send_telemetry();
}

/* COBS decoding of the receive stream, one byte at a time. */
static uint8_t frame_buf[100];
static uint8_t frame_len, frame_overflow;

static void receive_byte(uint8_t byte) {
  if (byte != 0) {
    if (frame_len < sizeof frame_buf) frame_buf[frame_len++] = byte;
    else frame_overflow = 1;
    return;
  }
  if (frame_overflow) {
    framing_errors++;
  } else if (frame_len > 0) {
    /* COBS-decode in place: the output never overtakes the input. */
    uint8_t n = 0, i = 0, ok = 1;
    while (i < frame_len) {
      uint8_t code = frame_buf[i];
      if (code == 0 || (uint16_t)i + code > frame_len) {
        ok = 0;
        break;
      }
      for (uint8_t k = 1; k < code; k++) frame_buf[n++] = frame_buf[i + k];
      i = (uint8_t)(i + code);
      if (code != 0xFF && i < frame_len) frame_buf[n++] = 0;
    }
    if (ok) handle_frame(frame_buf, n);
    else framing_errors++;
  }
  frame_len = 0;
  frame_overflow = 0;
}

/* ================================================================================ main == */

int main(void) {
  reset_cause = MCUSR & 0x0F; /* PORF, EXTRF, BORF, WDRF */
  MCUSR = 0;
  for (uint8_t pin = 8; pin <= 19; pin++) general_pins_mask |= 1UL << pin;
  load_config();
  apply_pin_config();
  debounce_reset();
  drive_enable(0);

  /* Timer1: CTC at TICK_HZ from clock/64 (a coarse prescaler also keeps avr8js fast). */
  TCCR1A = 0;
  TCCR1B = (1 << WGM12) | (1 << CS11) | (1 << CS10);
  OCR1A = (uint16_t)(F_CPU / 64 / TICK_HZ - 1);
  TIMSK1 = (1 << OCIE1A);
  /* INT0 and INT1 on any edge: the encoder. */
  EICRA = (1 << ISC00) | (1 << ISC10);
  EIMSK = (1 << INT0) | (1 << INT1);
  uart_init();
  sei();

  send_boot(0);
  send_telemetry();
  for (;;) {
    while (rx_tail != rx_head) {
      uint8_t byte = rx_buf[rx_tail];
      rx_tail = (uint8_t)((rx_tail + 1) & 127);
      receive_byte(byte);
    }
    uint32_t now, seen;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
      now = millis;
      seen = last_valid_frame_ms;
    }
    /* Host-loss watchdog: no valid frame for watchdog_ms -> the safe state, latched. */
    if (provisioned && !(flags & F_WATCHDOG_TRIPPED) && now - seen > config.watchdog_ms) {
      ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        flags |= F_WATCHDOG_TRIPPED | F_SAFE_LATCHED;
        safe_stop(config.stop_category);
      }
    }
    /* Encoder and STEP levels change all through a motion; only inputs and home count as news. */
    uint32_t news_mask = general_pins_mask | (1UL << HOME_BIT);
    uint8_t changed = (read_levels() & news_mask) != (last_levels & news_mask) || flags != last_flags || axis_state != last_axis_state || motion_result != last_result;
    if (now - last_telemetry_ms >= TELEMETRY_PERIOD_MS || (changed && now - last_telemetry_ms >= TELEMETRY_MIN_GAP_MS)) send_telemetry();
  }
}
