"""Burgerbrief detection (issue 5): is a reaction a possible burgerbrief, which kind, is it urgent, and why.

    classifier.py  classify(text, org=None, post=None, platform=None) -> Result; classify_batch(texts) (fast path)
    cues.py        Matcher/PhraseMatcher cues on spacy.blank("nl"); readable reasons without message text
    linear.py      sparse logistic/softmax heads and Platt calibration in numpy
    train.py       training (calibrated on out-of-fold margins) and evaluation
    alerts.py      alert and feedback datums, wire codec, a webcare verdict as a new archive-record version
    settings.py    section `burgerbrief:` of archiefstroom.yaml
    model/         the shipped model (datasets/burgerbrief/README.md says how it was made)
Pure: no Beam, Kafka or S3 here (transforms/burgerbrief.py and the commands are the edges).
"""
