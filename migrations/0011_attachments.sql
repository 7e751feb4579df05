-- What a media message carries and which system event a system message records (see
-- src/Domain/MessageKind.ts): a media message keeps its kind and attachment file name, its caption is
-- its text; a system message keeps its event. Old rows stay null: they were parsed before either existed.
ALTER TABLE messages
  ADD COLUMN media_kind text CHECK (media_kind IN (
    'image', 'video', 'audio', 'voice', 'sticker', 'gif', 'document', 'contact', 'location', 'poll', 'view_once', 'unknown'
  )),
  ADD COLUMN file_name text,
  ADD COLUMN event text CHECK (event IN (
    'encryption', 'created', 'added', 'removed', 'left', 'joined', 'community', 'subject', 'icon', 'description',
    'settings', 'admin', 'security_code', 'number_changed', 'disappearing', 'call', 'pinned', 'kept', 'contact',
    'privacy', 'other'
  ));
