"""One vocabulary for every agent and backend: the settings, times of day, weathers, cameras, moods, sound
names, species and colours a plan can name, and the word tables that map plain words to them.

The names are typed (``Literal``) where the plan checks them (settings, times, weathers, cameras); moods and
sounds are typed too, but a cue may name others (a model backend can render any words; a synthesizer refuses
what it cannot make). The tuples list them for prompts and backends.
Each word table says which words pick which name, and where it is used:

- ``STORY_*_WORDS``: a story's own words -> its scene (the offline writer reads a page's text).
- ``REQUEST_*_WORDS``: a revision request's words -> a name (the offline reviser's rules; regular
  expressions, the earliest match wins).
- ``STORY_MOOD_WORDS``: a page's words -> the mood of its music (the code-built direction).
- ``MOOD_STYLE_WORDS`` and ``SOUND_WORDS``: what a music cue's mood or a sound cue's text names, for the
  synthesizing backends.
"""

from __future__ import annotations

from typing import Literal

Setting = Literal[
    "forest", "beach", "sea", "meadow", "mountain", "cave", "castle", "village", "city", "room", "sky", "garden",
    "underwater", "shop", "library", "school", "snowfield", "desert", "space",
]  # fmt: skip
TimeOfDay = Literal["dawn", "day", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "snow", "wind", "fog", "storm"]
Camera = Literal["pan_left", "pan_right", "zoom_in", "zoom_out", "parallax", "tilt_up", "tilt_down"]
Mood = Literal["calm", "gentle", "playful", "mysterious", "tense", "sad", "triumphant", "adventurous", "scary"]
Sound = Literal[
    "wind", "rain", "waves", "fire", "birds", "footsteps", "thunder", "storm", "stream", "crickets", "magic",
    "heartbeat", "underwater", "shop", "library", "school", "snow", "desert", "space",
]  # fmt: skip

SETTINGS: tuple[str, ...] = Setting.__args__  # type: ignore[attr-defined]
TIMES_OF_DAY: tuple[str, ...] = TimeOfDay.__args__  # type: ignore[attr-defined]
WEATHERS: tuple[str, ...] = Weather.__args__  # type: ignore[attr-defined]
CAMERAS: tuple[str, ...] = Camera.__args__  # type: ignore[attr-defined]
MOODS: tuple[str, ...] = Mood.__args__  # type: ignore[attr-defined]  # every mood the music backends render
SOUNDS: tuple[str, ...] = Sound.__args__  # type: ignore[attr-defined]  # every sound the sfx synthesizer makes
DEFAULT_MOOD = "gentle"

# The camera moves a code-built direction cycles through, page after page.
CAMERA_CYCLE = ("zoom_in", "pan_right", "parallax", "zoom_out", "pan_left", "tilt_up")

SPECIES = (
    "dragon", "fox", "rabbit", "bunny", "bear", "cat", "kitten", "dog", "puppy", "bird", "owl", "duck",
    "penguin", "fish", "whale", "turtle", "frog", "mouse", "elephant", "lion", "tiger", "monkey", "pig",
    "unicorn", "horse", "pony", "robot", "girl", "boy", "child", "princess", "prince", "knight", "wizard",
    "witch", "giant", "troll", "squirrel", "hedgehog", "deer", "wolf", "octopus", "snail", "bee", "ladybug",
    "squid", "crab", "seahorse", "jellyfish", "shark", "dolphin", "seal", "starfish", "goat", "sheep", "lamb",
    "cow", "chicken", "hen", "goose", "giraffe", "zebra", "hippo", "crocodile", "kangaroo", "koala", "panda",
    "otter", "badger", "raccoon", "beaver", "mole", "ant", "butterfly", "caterpillar", "spider", "dinosaur",
    "alien", "ghost", "monster", "fairy", "mermaid", "pirate", "astronaut", "king", "queen", "baby", "grandma",
    "grandpa", "teacher", "camel", "snowman",
)  # fmt: skip
COLORS = {
    "green": "#4caf50", "red": "#e53935", "blue": "#1e88e5", "yellow": "#fdd835", "orange": "#fb8c00",
    "purple": "#8e24aa", "pink": "#f06292", "brown": "#8d6e63", "white": "#f5f5f5", "black": "#424242",
    "gray": "#9e9e9e", "grey": "#9e9e9e", "golden": "#ffb300", "silver": "#b0bec5", "teal": "#26a69a",
}  # fmt: skip
PALETTE = ("green", "orange", "blue", "purple", "teal", "pink", "red", "golden")  # heroes' colours by seed

# --- a story's words -> its scene (checked in this order; the first match wins) ---------------------------
# The specific places come first: "the bottom of the ocean" is underwater before "ocean" is the sea, a "sand
# sea" a desert before "sand" is a beach. Words match as whole words, with an optional plural s or es.
STORY_SETTING_WORDS = {
    "underwater": ("underwater", "under the sea", "under the ocean", "undersea", "seabed", "sea floor",
                   "ocean floor", "bottom of the sea", "bottom of the ocean", "reef", "coral", "kelp", "seaweed"),
    "space": ("space", "outer space", "planet", "rocket", "spaceship", "astronaut", "galaxy", "moon base"),
    "library": ("library", "libraries", "librarian", "bookshelf", "bookshelves", "books", "reading room"),
    "school": ("school", "classroom", "teacher", "lesson", "class"),
    "shop": ("shop", "store", "market", "bakery", "shopkeeper", "counter"),
    "snowfield": ("snow field", "snowfield", "ice", "iceberg", "glacier", "arctic", "north pole", "south pole",
                  "tundra", "snowy plain"),
    "desert": ("desert", "dune", "sand sea", "oasis", "cactus", "cacti"),
    "beach": ("beach", "sand", "shore", "surf"), "sea": ("sea", "ocean", "boat", "ship", "wave", "island"),
    "cave": ("cave", "tunnel", "underground"), "castle": ("castle", "tower", "palace", "king", "queen"),
    "mountain": ("mountain", "hill", "peak", "cliff"), "forest": ("forest", "wood", "tree", "jungle"),
    "city": ("city", "street", "town"), "village": ("village", "farm", "barn", "cottage"),
    "room": ("room", "bed", "house", "home", "kitchen", "inside", "window"),
    "sky": ("sky", "cloud", "fly", "flew", "flying", "star", "moon"),
    "garden": ("garden", "flower", "pond"), "meadow": ("meadow", "field", "grass", "valley"),
}  # fmt: skip
# Places inside a world: a page in the world whose words name only these stays in the world ("the library at
# the bottom of the ocean" is drawn under the sea; "the stars" of a space story are space, not the sky).
WORLD_PLACES = {
    "underwater": ("sea", "beach", "library", "shop", "school", "room", "castle", "cave", "city", "village"),
    "space": ("sky", "room", "shop", "library", "school", "city"),
}
STORY_TIME_WORDS = {
    "night": ("night", "dark", "moon", "star", "sleep", "bedtime", "owl"), "dusk": ("evening", "sunset", "dusk"),
    "dawn": ("morning", "sunrise", "dawn", "woke"),
}  # fmt: skip
STORY_WEATHER_WORDS = {
    "storm": ("storm", "thunder", "lightning"), "rain": ("rain", "puddle", "wet"), "snow": ("snow", "ice", "winter"),
    "wind": ("wind", "windy", "breeze", "blew"), "fog": ("fog", "mist"),
    "cloudy": ("cloud", "cloudy", "overcast", "grey sky"),
}  # fmt: skip
# Phrases whose place, time or weather word is not meant literally ("there was no room left", "over the moon",
# "ice cream", "a school of fish"): the scene readers blank them out before looking for ``STORY_*_WORDS``
# (regular expressions over lowercase text, whole words).
STORY_IDIOMS: tuple[str, ...] = (
    r"(no|any|some|more|less|enough|plenty of|little|lots of|made|make|makes|making) (room|space)",
    r"(?<!the )(?<!her )(?<!his )(?<!my )(?<!a )(?<!its )(?<!our )(?<!your )(?<!their )(room|space) (for|left|enough)",
    r"(in|at) no time", r"no time", r"(feel|feels|felt|feeling) at home", r"(felt|feel|feels|feeling) (\w+ )?inside",
    r"inside out", r"over the moon", r"(lucky|see|saw) stars", r"star of the", r"ice[ -]?creams?", r"ice lolly",
    r"(broke|break|breaks|breaking) the ice", r"schools? of fish", r"(a|an) (sea|ocean|mountain|forest|tower|cloud) of",
    r"cloud nine", r"in store", r"by storm", r"storm(ed|s)? (off|out)", r"rain check", r"right as rain",
    r"wind(s|ing)? (up|down)", r"blew (out|a kiss|bubbles)", r"(was|is|like) a breeze", r"wave of", r"flower ?beds?",
    r"home ?work", r"field trip",
)  # fmt: skip
# a page's words -> its music's mood (in this order; no match: DEFAULT_MOOD)
STORY_MOOD_WORDS = {
    "tense": ("afraid", "scared", "fear", "dark", "storm", "danger", "lost", "alone", "cried", "worried"),
    "triumphant": ("brave", "proud", "won", "cheer", "hooray", "did it", "victory"),
    "playful": ("play", "laugh", "jump", "game", "fun", "giggle", "dance", "splash"),
    "mysterious": ("strange", "secret", "magic", "hidden", "glow", "whisper", "mystery"),
    "sad": ("sad", "tears", "miss", "goodbye"),
    "calm": ("sleep", "dream", "quiet", "warm", "home", "hug", "smile", "friend"),
}

# --- a revision request's words -> a name (regular expressions; the earliest match wins) -----------------
REQUEST_SETTING_WORDS = {
    "beach": "beach|seaside|shore|sand", "sea": "sea|ocean|boat|ship", "forest": "forest|woods?|jungle",
    "meadow": "meadow|fields?|grassland", "mountain": "mountains?|hills?|peak", "cave": "caves?|cavern",
    "castle": "castle|palace", "village": "village|farm", "city": "city|town|street",
    "room": "room|bedroom|house|home|indoors|inside|kitchen", "sky": "sky", "garden": "garden|park",
    "underwater": "underwater|under the (?:sea|ocean)|undersea|seabed|sea ?floor|ocean floor|reef|bottom of the "
    "(?:sea|ocean)", "space": "space|outer space|planets?|rocket", "library": "library", "school": "school|classroom",
    "shop": "shop|store|market|bakery", "snowfield": "snow ?field|arctic|north pole|ice field|glacier",
    "desert": "desert|dunes?",
}  # fmt: skip
REQUEST_TIME_WORDS = {
    "night": "night|nighttime|midnight", "dusk": "dusk|evening|sunset|twilight", "dawn": "dawn|morning|sunrise",
    "day": "daytime|midday|noon|afternoon|during the day|by day",
}  # fmt: skip
REQUEST_WEATHER_WORDS = {
    "rain": "rain|rainy|raining", "snow": "snow|snowy|snowing|winter", "wind": "wind|windy",
    "fog": "fog|foggy|mist|misty", "storm": "storm|stormy|thunder", "cloudy": "cloudy|overcast",
    "clear": "sunny|sunshine|clear",
}  # fmt: skip
REQUEST_MOOD_WORDS = (
    ("calm", "calm|quiet|peace|relax|soft|slow|sooth|mellow"),
    ("gentle", "gentle|tender|dream|sweet|lullab"),
    ("playful", "happ|cheer|play|fun|upbeat|jolly|merr|bounc|live|joy"),
    ("sad", "sad|melanchol|somber|sombre|gloom"),
    ("scary", "scar|spook|creep|frighten|dark"),
    ("tense", "tense|suspens|dramatic|intense|excit|fast|urgent"),
    ("mysterious", "myster|magic|eerie|strange"),
    ("triumphant", "triumph|epic|heroic|grand|victor|proud"),
    ("adventurous", "advent|bold|brave|journey"),
)

# --- what a cue names, for the synthesizing backends -------------------------------------------------------
# Words in a mood (or prompt) that pick a music style, as regular expressions. A word counts when it starts a
# word of the mood, so "calming" finds "calm" and "calm and warm" finds both; the earliest one wins.
MOOD_STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "calm": ("calm", "warm", "peace", "serene", "tranquil", "relax", "quiet", "cozy", "cosy", "soft", "hopeful"),
    "gentle": ("gentle", "dream", "lullab", "sleep", "tender", "wonder", "magic", "night", "float", "sweet"),
    "playful": ("play", "happy", "joy", r"fun\b", "funny", "silly", "whims", "cheer", "bounc", "lightheart", "merry"),
    "mysterious": ("myster", "curious", "secret", "strange", "enchant", "myth", "unknown", "eerie"),
    "tense": ("tense", "tension", "suspens", "danger", "chase", "urgent", "anxious", "nervous", "worr", "storm"),
    "sad": ("sad", "melanchol", "lonel", "sorrow", "grief", "wistful", "longing", "tear", "loss", "bittersweet"),
    "triumphant": ("triumph", "victor", "heroi", "epic", "celebrat", "proud", "glorious", "grand", "winning"),
    "adventurous": ("advent", "journey", "quest", "explor", "brave", "excit", "travel", "daring", "bold"),
    "scary": ("scary", "scared", "fear", "fright", "spook", "creep", "dark", "haunt", "terrif", "terror", "ominous"),
}
# What names each sound, as regular expressions over lowercase text. Word starts only, so "rain" is
# not found in "train" nor "sea" in "season".
SOUND_WORDS: dict[str, str] = {
    "wind": r"\b(wind|winds|windy|breeze|gust|gale|blow(s|ing)?\b|whoosh)",
    "rain": r"\b(rain(s|ing|y|fall|drops?)?\b|drizzl|downpour|shower\b)",
    "waves": r"\b(waves?\b|sea\b|seas\b|seaside|ocean|surf\b|shore|beach|tide)",
    "fire": r"\b(fire\b|fires\b|fireplace|campfire|bonfire|crackl|flame|hearth|embers?)",
    "birds": r"\b(birds?\b|birdsong|chirp|tweet|songbird|sparrow|robin|dawn chorus)",
    "footsteps": r"\b(footsteps?|steps?\b|walking|walks?\b|footfall|stomp|tiptoe)",
    "thunder": r"\b(thunder|lightning|rumbl)",
    "storm": r"\b(storm|stormy|thunderstorm|tempest)",
    "stream": r"\b(stream|river|brook|creek|water|babbl|trickl|splash|bubbl|fountain)",
    "crickets": r"\b(crickets?|cicadas?|night (sounds|ambience|insects)|insects)",
    "magic": r"\b(magic|sparkl|chime|twinkl|shimmer|glitter|fair(y|ies)\b|spells?\b)",
    "heartbeat": r"\b(heart ?beats?|heart\b|pulses?\b|thump)",
    "underwater": r"\b(underwater|under ?the ?sea|undersea|seabed|sea ?floor|reef|kelp)",
    "shop": r"\b(shops?\b|shopping|store\b|market|bakery)",
    "library": r"\b(library|libraries|pages? turn|turning pages|ticking|clock)",
    "school": r"\b(school|playground|classroom)",
    "snow": r"\b(snow\w*|blizzard|icy wind|frost)",
    "desert": r"\b(desert|sand ?storm|dunes?\b)",
    "space": r"\b(space\b|outer space|spaceship|rocket|cosmic)",
}
