/*
 * The plugin's ports: the one list that the C code and the generated TTL share (ttl/values.c
 * prints these numbers for the Makefile's sed to put into the TTL). Control and atom ports come
 * first, so their indices are the same in the mono and the stereo plugin; the audio ports
 * follow: inputs, then outputs, one per channel.
 */
#ifndef PM_PORTS_H
#define PM_PORTS_H

typedef enum pm_port {
    PM_PORT_MODEL = 0,
    PM_PORT_DATASET = 1,
    PM_PORT_STRENGTH = 2,
    PM_PORT_ENABLED = 3,
    PM_PORT_LATENCY = 4,
    PM_PORT_LEVEL = 5,
    PM_PORT_EMBEDDING = 6,
    PM_PORT_KEY_STATE = 7,
    PM_PORT_CONTROL = 8,
    PM_PORT_NOTIFY = 9,
    PM_PORT_AUDIO = 10
} pm_port;
#define PM_N_CONTROLS PM_PORT_AUDIO

/* Values of the key_state output port (an lv2:enumeration in the TTL). */
typedef enum pm_key_state {
    PM_KEY_DEMO = 0,    /* no key chosen: the public demo key marks (proves nothing) */
    PM_KEY_LOADED = 1,  /* the chosen key marks */
    PM_KEY_FAILED = 2,  /* the chosen key could not be loaded: nothing is marked */
    PM_KEY_LOADING = 3  /* the chosen key is being loaded: nothing is marked yet */
} pm_key_state;
#endif
