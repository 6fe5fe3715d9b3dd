// mtdelay: a stereo delay by a whole number of samples that reports it as latency.
#pragma once

#define DISTRHO_PLUGIN_BRAND "mixtree"
#define DISTRHO_PLUGIN_NAME "mtdelay"
#define DISTRHO_PLUGIN_URI "urn:mixtree:test:mtdelay"
#define DISTRHO_PLUGIN_CLAP_ID "org.mixtree.test.mtdelay"
#define DISTRHO_PLUGIN_CLAP_FEATURES "audio-effect", "delay", "stereo"
#define DISTRHO_PLUGIN_VST3_CATEGORIES "Fx|Delay"
#define DISTRHO_PLUGIN_LV2_CATEGORY "lv2:DelayPlugin"
#define DISTRHO_PLUGIN_NUM_INPUTS 2
#define DISTRHO_PLUGIN_NUM_OUTPUTS 2
#define DISTRHO_PLUGIN_WANT_LATENCY 1
#define DISTRHO_PLUGIN_IS_RT_SAFE 1
#define DISTRHO_PLUGIN_WANT_STATE 1  // for the CLAP state extension (it saves the parameters)
