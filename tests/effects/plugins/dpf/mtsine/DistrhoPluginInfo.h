// mtsine: a sine per held MIDI note, sample-exact on and off, for instrument-host tests.
#pragma once

#define DISTRHO_PLUGIN_BRAND "mixtree"
#define DISTRHO_PLUGIN_NAME "mtsine"
#define DISTRHO_PLUGIN_URI "urn:mixtree:test:mtsine"
#define DISTRHO_PLUGIN_CLAP_ID "org.mixtree.test.mtsine"
#define DISTRHO_PLUGIN_CLAP_FEATURES "instrument", "synthesizer", "stereo"
#define DISTRHO_PLUGIN_VST3_CATEGORIES "Instrument|Synth"
#define DISTRHO_PLUGIN_LV2_CATEGORY "lv2:InstrumentPlugin"
#define DISTRHO_PLUGIN_NUM_INPUTS 0
#define DISTRHO_PLUGIN_NUM_OUTPUTS 2
#define DISTRHO_PLUGIN_IS_SYNTH 1
#define DISTRHO_PLUGIN_IS_RT_SAFE 1
