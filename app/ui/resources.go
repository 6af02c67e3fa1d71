package ui

import (
	"fyne.io/fyne/v2"

	"echotray/assets"
)

// The application icon as Fyne resources (assets holds plain PNG bytes).
var (
	appIcon   = fyne.NewStaticResource(assets.AppIconName, assets.AppIconPNG)
	appIcon64 = fyne.NewStaticResource(assets.AppIcon64Name, assets.AppIcon64PNG)
)
