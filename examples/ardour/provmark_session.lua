-- Headless Ardour 7 session with provmark on a stereo track (run with ardour7-lua).
-- Environment: PM_SESSION_DIR (new folder), PM_MODEL, PM_DATASET, PM_SECONDS (take length).
-- It records PM_SECONDS from the dummy backend's inputs so the session has a take to
-- replace with real audio, then saves; ardour7-export renders it through the plugin.
local dir = os.getenv("PM_SESSION_DIR")
local model = tonumber(os.getenv("PM_MODEL") or "7")
local dataset = tonumber(os.getenv("PM_DATASET") or "42")
local seconds = tonumber(os.getenv("PM_SECONDS") or "12")
assert(dir, "set PM_SESSION_DIR")

AudioEngine:set_backend("None (Dummy)", "", "")
assert(create_session(dir, "pm", 48000), "cannot create the session")
local track = Session:new_audio_track(2, 2, nil, 1, "pmtrack",
    ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()

local plugin = ARDOUR.LuaAPI.new_plugin(Session, "urn:provmark:stereo", ARDOUR.PluginType.LV2, "")
assert(not plugin:isnil(), "provmark not found: is LV2_PATH set?")
assert(track:add_processor_by_index(plugin, 0, nil, true))
-- Parameters count the plugin's control inputs in port order: model_id, dataset_id, ...
ARDOUR.LuaAPI.set_processor_param(plugin, 0, model)
ARDOUR.LuaAPI.set_processor_param(plugin, 1, dataset)

track:input():disconnect_all(nil)
track:input():audio(0):connect("system:capture_1")
track:input():audio(1):connect("system:capture_2")
track:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
Session:maybe_enable_record(false)
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(seconds * 1000000)
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(1000000)
Session:save_state("", false, false, false, false, false)
close_session()
